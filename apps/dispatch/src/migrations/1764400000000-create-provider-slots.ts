import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Capacity slots: one row per job holding a place at a provider account until it finishes. */
export class CreateProviderSlots1764400000000 implements MigrationInterface {
  name = 'CreateProviderSlots1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS provider_slots (
        job_id      text PRIMARY KEY,
        provider    text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS provider_slots_provider_idx ON provider_slots (provider)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS provider_slots`);
  }
}
