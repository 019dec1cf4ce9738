import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The unexpected errors each delivery of a job's JobValidated has met since one first threw (see dispatch-when-job-validated/error-streaks.ts):
 * written only when a delivery throws, so a healthy job costs no statement here.
 */
export class CreateDispatchErrorStreaks1764400000008 implements MigrationInterface {
  name = 'CreateDispatchErrorStreaks1764400000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS dispatch_error_streaks (
        job_id text PRIMARY KEY,
        first_at timestamptz NOT NULL,
        first_delivery integer NOT NULL,
        last_at timestamptz NOT NULL,
        errors integer NOT NULL,
        last_error text NOT NULL
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS dispatch_error_streaks_last_at ON dispatch_error_streaks (last_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dispatch_error_streaks`);
  }
}
