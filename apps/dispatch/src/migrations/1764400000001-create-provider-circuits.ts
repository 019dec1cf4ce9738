import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Provider health shared by all dispatch replicas: consecutive submit failures and the open/probe times. */
export class CreateProviderCircuits1764400000001 implements MigrationInterface {
  name = 'CreateProviderCircuits1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS provider_circuits (
        provider             text PRIMARY KEY,
        consecutive_failures integer NOT NULL DEFAULT 0,
        first_failure_at     timestamptz,
        opened_at            timestamptz,
        probe_at             timestamptz,
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS provider_circuits`);
  }
}
