import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A key's scope (`full`, or `read`: GET requests only) and when it stops working (null: never). */
export class ApiKeyScopeAndExpiry1764300100001 implements MigrationInterface {
  name = 'ApiKeyScopeAndExpiry1764300100001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT 'full'`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_at timestamptz NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN IF EXISTS expires_at, DROP COLUMN IF EXISTS scope`);
  }
}
