import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The replay under way of an open dead letter: set before its payload is published again, cleared
 * by a new failure of the same event that joins the letter meanwhile, so the replay's end marks the
 * letter replayed only when nothing failed again (DeadLetterStore.beginReplay / markReplayed).
 */
export class DeadLetterReplayToken1764300000011 implements MigrationInterface {
  name = 'DeadLetterReplayToken1764300000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replay_token uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters DROP COLUMN IF EXISTS replay_token`);
  }
}
