import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `cancel_at`: the job's own deadline (`cancelAfterSeconds`), when it has one. A check is planned
 * at it, and the check there cancels the job if the provider has not finished it, or takes the
 * output if it has. Rows written before this column (or by an older replica) have none: intake
 * cancels those jobs unchecked once the grace after the deadline has passed.
 */
export class PollScheduleCancelAt1764300400004 implements MigrationInterface {
  name = 'PollScheduleCancelAt1764300400004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule ADD COLUMN cancel_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule DROP COLUMN IF EXISTS cancel_at`);
  }
}
