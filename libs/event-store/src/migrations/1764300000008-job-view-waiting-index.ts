import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The jobs of a model that have not started, oldest first: the gateway counts those ahead of a job without scanning job_view. */
export class JobViewWaitingIndex1764300000008 implements MigrationInterface {
  name = 'JobViewWaitingIndex1764300000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS job_view_waiting_model_idx ON job_view (model, created_at, job_id) WHERE status IN ('queued', 'validating')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS job_view_waiting_model_idx`);
  }
}
