import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reelay_acquire_provider_slots(job_ids, providers, limits)`: several slot acquires in one
 * statement, with the outcome of each as if they had run one after another in the order given
 * (`ord` is the 1-based position). The lock of every provider involved is taken first, in key
 * order, so two batches cannot deadlock and a single acquire (which locks one provider) cannot
 * join a cycle; each step then runs `reelay_acquire_provider_slot`, whose own lock call is a
 * no-op for a lock this transaction holds. One statement is one commit: acquirers of a provider
 * were serialised on its lock for the length of a commit each, so a busy provider could take no
 * more jobs per second than the disk could flush commits.
 */
export class CreateAcquireSlotsFunction1764400000003 implements MigrationInterface {
  name = 'CreateAcquireSlotsFunction1764400000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_acquire_provider_slots(p_job_ids text[], p_providers text[], p_limits int[])
      RETURNS TABLE (ord int, acquired boolean, in_use int)
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtext('reelay.provider_slots.' || p) AS k FROM unnest(p_providers) AS p ORDER BY 1) AS keys;
        FOR i IN 1 .. coalesce(array_length(p_job_ids, 1), 0) LOOP
          RETURN QUERY SELECT i, s.acquired, s.in_use FROM reelay_acquire_provider_slot(p_job_ids[i], p_providers[i], p_limits[i]) AS s;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_acquire_provider_slots(text[], text[], int[])`);
  }
}
