import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `callback_seen_at`: when the last provider callback for the row's task arrived. A callback inside
 * the gap after another one is deferred to the gap's end; when it arrives while a check runs, that
 * check's reschedule must keep the deferral, and only this column says a callback came after the claim.
 */
export class PollScheduleCallbackSeen1764300400003 implements MigrationInterface {
  name = 'PollScheduleCallbackSeen1764300400003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule ADD COLUMN callback_seen_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule DROP COLUMN IF EXISTS callback_seen_at`);
  }
}
