import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whose job holds each slot, for the fair share between users (DISPATCH_MAX_IN_FLIGHT_PER_USER).
 * Nullable: slots taken before this release, or while no per-user limit is set, count for no user.
 */
export class ProviderSlotsUser1764400000005 implements MigrationInterface {
  name = 'ProviderSlotsUser1764400000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_slots ADD COLUMN IF NOT EXISTS user_id text`);
    await q.query(`CREATE INDEX IF NOT EXISTS provider_slots_user_idx ON provider_slots (user_id) WHERE user_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS provider_slots_user_idx`);
    await q.query(`ALTER TABLE provider_slots DROP COLUMN IF EXISTS user_id`);
  }
}
