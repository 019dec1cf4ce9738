import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The newest succeeded jobs of a model, read by the gateway's finish-time estimates without scanning job_view. */
export class JobViewDurationsIndex1764300000007 implements MigrationInterface {
  name = 'JobViewDurationsIndex1764300000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS job_view_succeeded_model_idx ON job_view (model, completed_at DESC) WHERE status = 'succeeded'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS job_view_succeeded_model_idx`);
  }
}
