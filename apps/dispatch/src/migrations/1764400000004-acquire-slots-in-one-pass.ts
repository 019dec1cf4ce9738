import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateAcquireSlotsFunction1764400000003 } from './1764400000003-create-acquire-slots-function';

/**
 * `reelay_acquire_provider_slots` decides a whole batch in one statement instead of running
 * `reelay_acquire_provider_slot` per request.
 *
 * The per-request loop counted the provider's slots once per request (an index scan over every
 * slot in use) with the provider's advisory lock held, so a batch of 20 held the lock for 20 counts
 * and 20 inserts while the next batch, and the job's step from validated to running, waited.
 * Here the slots of each provider are counted once (a MATERIALIZED CTE: inlined, the planner
 * put the count back under the join and ran it once per request); each request's outcome is still
 * the one it would get if the batch ran one request after another in the order given:
 *
 * - a job that already holds its slot at the provider keeps it (even over the limit), and is
 *   answered with the slots in use at its turn;
 * - the k-th request of a provider that holds nothing gets a slot if `in use + k <= limit`
 *   (slots are only added during a batch, so once one is refused, every later one is too), and
 *   is answered with `in use + min(k, free slots)`.
 *
 * That reasoning needs three things, checked first; when one fails (a job asked twice in one
 * batch, two limits for one provider, or a job whose slot is at another provider and would move,
 * which frees a slot there mid-batch) the batch runs one request at a time as before. The locks
 * are taken as before: every provider of the batch, in key order, before anything is read.
 */
export class AcquireSlotsInOnePass1764400000004 implements MigrationInterface {
  name = 'AcquireSlotsInOnePass1764400000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_acquire_provider_slots(p_job_ids text[], p_providers text[], p_limits int[])
      RETURNS TABLE (ord int, acquired boolean, in_use int)
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtext('reelay.provider_slots.' || p) AS k FROM unnest(p_providers) AS p ORDER BY 1) AS keys;

        IF (SELECT count(DISTINCT j) = count(*) FROM unnest(p_job_ids) AS j)
           AND NOT EXISTS (SELECT 1 FROM unnest(p_providers, p_limits) AS r(prov, lim) GROUP BY r.prov HAVING count(DISTINCT r.lim) > 1)
           AND NOT EXISTS (SELECT 1 FROM unnest(p_job_ids, p_providers) AS r(job, prov) JOIN provider_slots s ON s.job_id = r.job WHERE s.provider <> r.prov) THEN
          RETURN QUERY
          WITH req AS (
            SELECT r.o::int AS o, r.job, r.prov, r.lim, (s.job_id IS NOT NULL) AS held
              FROM unnest(p_job_ids, p_providers, p_limits) WITH ORDINALITY AS r(job, prov, lim, o)
              LEFT JOIN provider_slots s ON s.job_id = r.job
          ), counted AS MATERIALIZED (
            SELECT d.prov, (SELECT count(*)::int FROM provider_slots s WHERE s.provider = d.prov) AS n
              FROM (SELECT DISTINCT req.prov FROM req) AS d
          ), ranked AS (
            SELECT req.o, req.job, req.prov, req.lim, req.held, counted.n,
                   (count(*) FILTER (WHERE NOT req.held) OVER (PARTITION BY req.prov ORDER BY req.o))::int AS k
              FROM req JOIN counted ON counted.prov = req.prov
          ), decided AS (
            SELECT ranked.o, ranked.job, ranked.prov, ranked.held,
                   (ranked.held OR ranked.n + ranked.k <= ranked.lim) AS ok,
                   ranked.n + LEAST(ranked.k, GREATEST(ranked.lim - ranked.n, 0)) AS after
              FROM ranked
          ), inserted AS (
            INSERT INTO provider_slots (job_id, provider)
            SELECT decided.job, decided.prov FROM decided WHERE decided.ok AND NOT decided.held
            ON CONFLICT (job_id) DO UPDATE SET provider = EXCLUDED.provider, acquired_at = now()
          )
          SELECT decided.o, decided.ok, decided.after FROM decided ORDER BY decided.o;
          RETURN;
        END IF;

        FOR i IN 1 .. coalesce(array_length(p_job_ids, 1), 0) LOOP
          RETURN QUERY SELECT i, s.acquired, s.in_use FROM reelay_acquire_provider_slot(p_job_ids[i], p_providers[i], p_limits[i]) AS s;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await new CreateAcquireSlotsFunction1764400000003().up(q);
  }
}
