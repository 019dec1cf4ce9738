import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Unfinished jobs by their deadline (`cancelAt`, set when a submit asked for `cancelAfterSeconds`):
 * intake's deadline sweep asks every few seconds for those whose time has come. Partial: most jobs
 * have no deadline, and a finished one leaves the index. Not CONCURRENTLY, like 0008.
 */
export class JobViewCancelAtIndex1764300000010 implements MigrationInterface {
  name = 'JobViewCancelAtIndex1764300000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS job_view_cancel_at_idx ON job_view ((job->>'cancelAt'))
       WHERE job ? 'cancelAt' AND status IN ('queued', 'validating', 'running', 'delayed')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS job_view_cancel_at_idx`);
  }
}
