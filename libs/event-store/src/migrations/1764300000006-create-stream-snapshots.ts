import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folded states of long streams (see StreamSnapshotStore), one row per stream and fold. Not part of
 * the log and never needed for correctness: a row can be deleted at any time, and the state is
 * folded from the events again.
 */
export class CreateStreamSnapshots1764300000006 implements MigrationInterface {
  name = 'CreateStreamSnapshots1764300000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stream_snapshots (
        stream_id text NOT NULL,
        fold      text NOT NULL,
        version   int NOT NULL,
        state     jsonb NOT NULL,
        saved_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, fold)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS stream_snapshots`);
  }
}
