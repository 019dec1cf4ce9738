import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the checks already recorded in the job's stream, kept on the schedule row so that a check
 * finding the job still running writes (and reads) the stream only when there is something new:
 * `progress` is the last `JobProgressed` percentage written, `delayed_marked` that `JobDelayed`
 * was asked for. Both are hints: the job decider still refuses repeats, so a row that is behind
 * (NULL/false after this migration) only costs one needless read.
 *
 * Every check updates its row twice (claim, reschedule). Free space in each page (fillfactor 70)
 * lets the claim, which changes no indexed column, be a HOT update: no new index entries, and its
 * dead versions are pruned in place instead of waiting for vacuum.
 */
export class PollScheduleProgress1764300400001 implements MigrationInterface {
  name = 'PollScheduleProgress1764300400001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule ADD COLUMN progress int NULL, ADD COLUMN delayed_marked boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE poll_schedule SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule RESET (fillfactor)`);
    await q.query(`ALTER TABLE poll_schedule DROP COLUMN IF EXISTS progress, DROP COLUMN IF EXISTS delayed_marked`);
  }
}
