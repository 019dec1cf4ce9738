import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reelay_acquire_provider_slot(job_id, provider, limit)`: the whole slot acquire in one statement
 * (one round trip, no BEGIN/COMMIT). Returns (acquired, in_use): whether the job holds a slot at
 * the provider now, and how many slots the provider has in use afterwards.
 *
 * Called as an autocommit statement, the function runs in a transaction of its own, so the
 * advisory transaction lock it takes first is held exactly until that statement commits — after
 * its INSERT is visible — which serialises acquirers of one provider as the former explicit
 * transaction did. In a VOLATILE plpgsql function every statement takes a fresh READ COMMITTED
 * snapshot, so the reads after the lock see every slot committed before the lock was granted.
 */
export class CreateAcquireSlotFunction1764400000002 implements MigrationInterface {
  name = 'CreateAcquireSlotFunction1764400000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_acquire_provider_slot(p_job_id text, p_provider text, p_limit int)
      RETURNS TABLE (acquired boolean, in_use int)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_held text;
        v_n int;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('reelay.provider_slots.' || p_provider));
        SELECT s.provider INTO v_held FROM provider_slots s WHERE s.job_id = p_job_id;
        SELECT count(*)::int INTO v_n FROM provider_slots s WHERE s.provider = p_provider;
        IF v_held = p_provider THEN
          RETURN QUERY SELECT true, v_n;
          RETURN;
        END IF;
        IF v_n >= p_limit THEN
          RETURN QUERY SELECT false, v_n;
          RETURN;
        END IF;
        -- A slot at another provider (taken before a crash, then the choice changed) moves here.
        INSERT INTO provider_slots (job_id, provider) VALUES (p_job_id, p_provider)
        ON CONFLICT (job_id) DO UPDATE SET provider = EXCLUDED.provider, acquired_at = now();
        RETURN QUERY SELECT true, v_n + 1;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_acquire_provider_slot(text, text, int)`);
  }
}
