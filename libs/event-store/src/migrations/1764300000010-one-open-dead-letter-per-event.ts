import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * At most one open (not replayed) dead letter per consumer and event: a consumer that died between
 * recording a letter and ending its message gets that message once more, and its second letter
 * joins the first (DeadLetterStore.record) instead of being a second one an operator would replay
 * too. Of the open duplicates recorded before this, the oldest is kept. Not CONCURRENTLY, like 0008.
 */
export class OneOpenDeadLetterPerEvent1764300000010 implements MigrationInterface {
  name = 'OneOpenDeadLetterPerEvent1764300000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM dead_letters d USING dead_letters first
       WHERE d.replayed_at IS NULL AND first.replayed_at IS NULL AND d.event_id IS NOT NULL
         AND first.consumer = d.consumer AND first.event_id = d.event_id AND first.id < d.id`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_open_event_idx ON dead_letters (consumer, event_id) WHERE replayed_at IS NULL AND event_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS dead_letters_open_event_idx`);
  }
}
