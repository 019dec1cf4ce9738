import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1764300100000 implements MigrationInterface {
  name = 'CreateApiKeys1764300100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS api_keys (
        key_hash   text PRIMARY KEY,
        user_id    text NOT NULL,
        label      text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS api_keys_user_idx ON api_keys (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
