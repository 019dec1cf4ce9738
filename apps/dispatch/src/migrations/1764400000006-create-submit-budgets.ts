import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A token bucket per provider for PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>, shared by every
 * dispatch replica. `reelay_take_submit_token` refills the bucket for the time since its last use,
 * takes a token when one is there, and otherwise says how long until one will be. The row lock
 * (SELECT ... FOR UPDATE) serializes takers of one provider for the length of the statement, which
 * is its own transaction, so two replicas cannot both take the last token (PostgreSQL docs §13.3.2
 * "Row-Level Locks"); the INSERT ... ON CONFLICT DO NOTHING before it makes the row on first use.
 */
export class CreateSubmitBudgets1764400000006 implements MigrationInterface {
  name = 'CreateSubmitBudgets1764400000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS provider_submit_budgets (
        provider text PRIMARY KEY,
        tokens double precision NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_take_submit_token(p_provider text, p_burst double precision, p_per_second double precision)
      RETURNS TABLE (taken boolean, wait_ms integer) LANGUAGE plpgsql AS $$
      DECLARE
        v_now timestamptz;
        v_last timestamptz;
        t double precision;
      BEGIN
        INSERT INTO provider_submit_budgets (provider, tokens, updated_at) VALUES (p_provider, p_burst, clock_timestamp()) ON CONFLICT (provider) DO NOTHING;
        SELECT b.tokens, b.updated_at INTO t, v_last FROM provider_submit_budgets b WHERE b.provider = p_provider FOR UPDATE;
        -- Read after the lock is held, so no taker before this one can have written a later time.
        v_now := clock_timestamp();
        t := LEAST(p_burst, t + GREATEST(0, EXTRACT(EPOCH FROM v_now - v_last)) * p_per_second);
        IF t >= 1 THEN
          -- Never back in time (a clock stepped back): that interval would be refilled twice.
          UPDATE provider_submit_budgets SET tokens = t - 1, updated_at = GREATEST(v_last, v_now) WHERE provider = p_provider;
          RETURN QUERY SELECT true, 0;
        END IF;
        -- Refused: the row is left as it was (the refill is worked out from updated_at each time).
        RETURN QUERY SELECT false, GREATEST(1, CEIL((1 - t) / p_per_second * 1000))::integer;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_take_submit_token(text, double precision, double precision)`);
    await q.query(`DROP TABLE IF EXISTS provider_submit_budgets`);
  }
}
