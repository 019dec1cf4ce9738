import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The jobs made by regenerating another, by the job they repeat: a bulk regenerate of failed jobs
 * skips those already generated again without scanning the user's jobs once per candidate. Partial:
 * most jobs repeat none. Not CONCURRENTLY, like 0008 (a migration runs while services wait on its lock).
 */
export class JobViewParentIndex1764300000009 implements MigrationInterface {
  name = 'JobViewParentIndex1764300000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS job_view_parent_idx ON job_view ((job->>'parentJobId')) WHERE job ? 'parentJobId'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS job_view_parent_idx`);
  }
}
