import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Intake's own record of the deadlines submits asked for (`cancelAfterSeconds`): written before the
 * job's JobSubmitted, read by the deadline sweep by time, and removed once the job is canceled or
 * found finished. Kept apart from job_view, which the gateway writes and which may trail the log.
 */
export class CreateJobDeadlines1764300600000 implements MigrationInterface {
  name = 'CreateJobDeadlines1764300600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS job_deadlines (job_id text PRIMARY KEY, user_id text NOT NULL, cancel_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX IF NOT EXISTS job_deadlines_due_idx ON job_deadlines (cancel_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS job_deadlines`);
  }
}
