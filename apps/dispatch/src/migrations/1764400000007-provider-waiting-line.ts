import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A waiting line per provider, so a full provider's freed slots go to the jobs that have waited
 * longest instead of to whichever job happens to look again first.
 *
 * A job waiting for a slot is not held anywhere: its JobValidated delivery comes back every
 * DISPATCH_CAPACITY_WAIT_MS (with jitter) and asks again. Before this, a slot freed went to the
 * first job to ask after it, so under sustained load a job could lose that race for hours while
 * newer ones went ahead, and fail at DISPATCH_CAPACITY_WAIT_MAX_MS; the queue position the API
 * shows (jobs of the model submitted before it) did not hold either.
 *
 * `provider_waits` holds a row per job and provider that refused it, with its place: `priority`
 * (higher first) then `since` (the job's submit time, so a job keeps its place across deliveries,
 * replicas and restarts) then the job id. `seen_at` is when the job last asked: a row not seen
 * for `p_fresh_ms` is not waited for (its job was canceled without a release, moved on, or its
 * deliveries stopped), so a line never stalls on a job that no longer asks.
 *
 * `reelay_acquire_provider_slots_in_line` decides a batch as 0004's function did (same locks, the
 * same one-pass counting, the same fallback to one request at a time), except that the k-th free
 * slot of a provider goes to a request only when fewer than k requests of the batch and fresh
 * waiters rank ahead of it. A request with a null `since` (a job that had its turn and is failing
 * over) is outside the line: ahead of it in the order given, and never added to it. Each answer's
 * `in_use` is the provider's slots in use after the whole batch (what the in-flight gauge shows). Each refused request in the line
 * is added (or its `seen_at` renewed), and a job that gets a slot leaves every line. The count of
 * waiters ahead stops at the provider's free slots plus one (an index range scan on
 * `provider_waits_line`), so a long line costs a full provider nothing and a free one little.
 */
export class ProviderWaitingLine1764400000007 implements MigrationInterface {
  name = 'ProviderWaitingLine1764400000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS provider_waits (
        job_id text NOT NULL,
        provider text NOT NULL,
        priority int NOT NULL DEFAULT 0,
        since timestamptz NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, provider)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS provider_waits_line ON provider_waits (provider, priority DESC, since, job_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS provider_waits_seen ON provider_waits (seen_at)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_acquire_provider_slots_in_line(
        p_job_ids text[], p_providers text[], p_limits int[], p_since timestamptz[], p_priorities int[], p_fresh_ms int)
      RETURNS TABLE (ord int, acquired boolean, in_use int)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        i int;
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtext('reelay.provider_slots.' || p) AS k FROM unnest(p_providers) AS p ORDER BY 1) AS keys;

        IF coalesce(array_length(p_job_ids, 1), 0) > 1 AND NOT (
             (SELECT count(DISTINCT j) = count(*) FROM unnest(p_job_ids) AS j)
             AND NOT EXISTS (SELECT 1 FROM unnest(p_providers, p_limits) AS r(prov, lim) GROUP BY r.prov HAVING count(DISTINCT r.lim) > 1)
             AND NOT EXISTS (SELECT 1 FROM unnest(p_job_ids, p_providers) AS r(job, prov) JOIN provider_slots s ON s.job_id = r.job WHERE s.provider <> r.prov)) THEN
          -- One at a time, in line order (outside the line first, as given), so that the answers are
          -- the ones the line promises. The locks are held already: taking them again is a no-op.
          FOR i IN
            SELECT r.o::int FROM unnest(p_job_ids, p_since, p_priorities) WITH ORDINALITY AS r(job, since, pri, o)
             ORDER BY (r.since IS NOT NULL)::int, -coalesce(r.pri, 0), coalesce(r.since, '-infinity'), CASE WHEN r.since IS NULL THEN r.o ELSE 0 END, r.job
          LOOP
            RETURN QUERY SELECT i, s.acquired, s.in_use FROM reelay_acquire_provider_slots_in_line(
              ARRAY[p_job_ids[i]], ARRAY[p_providers[i]], ARRAY[p_limits[i]], ARRAY[p_since[i]], ARRAY[p_priorities[i]], p_fresh_ms) AS s;
          END LOOP;
          RETURN;
        END IF;

        RETURN QUERY
        WITH req AS (
          SELECT r.o::int AS o, r.job, r.prov, r.lim, r.since, coalesce(r.pri, 0) AS pri,
                 (s.job_id IS NOT NULL AND s.provider = r.prov) AS held
            FROM unnest(p_job_ids, p_providers, p_limits, p_since, p_priorities) WITH ORDINALITY AS r(job, prov, lim, since, pri, o)
            LEFT JOIN provider_slots s ON s.job_id = r.job
        ), counted AS MATERIALIZED (
          SELECT d.prov, (SELECT count(*)::int FROM provider_slots s WHERE s.provider = d.prov) AS n
            FROM (SELECT DISTINCT req.prov FROM req) AS d
        ), ranked AS (
          SELECT req.*, counted.n,
                 (SELECT count(*) FROM req other
                   WHERE other.prov = req.prov AND NOT other.held AND other.o <> req.o
                     AND ((other.since IS NOT NULL)::int, -other.pri, coalesce(other.since, '-infinity'), CASE WHEN other.since IS NULL THEN other.o ELSE 0 END, other.job)
                       < ((req.since IS NOT NULL)::int, -req.pri, coalesce(req.since, '-infinity'), CASE WHEN req.since IS NULL THEN req.o ELSE 0 END, req.job))::int AS ahead_in,
                 CASE WHEN req.held OR req.since IS NULL OR counted.n >= req.lim THEN 0 ELSE
                   (SELECT count(*) FROM (
                      SELECT 1 FROM provider_waits w
                       WHERE w.provider = req.prov
                         AND (w.priority > req.pri OR (w.priority = req.pri AND (w.since, w.job_id) < (req.since, req.job)))
                         AND w.seen_at > now() - make_interval(secs => p_fresh_ms / 1000.0)
                         -- A place the batch asks for itself is counted above; a place its jobs hold at another provider's line still counts.
                         AND NOT EXISTS (SELECT 1 FROM req mine WHERE mine.job = w.job_id AND mine.prov = w.provider)
                       LIMIT req.lim - counted.n + 1) AS ahead)::int
                 END AS ahead_out
            FROM req JOIN counted ON counted.prov = req.prov
        ), decided AS (
          SELECT ranked.o, ranked.job, ranked.prov, ranked.held, ranked.since, ranked.pri, ranked.n,
                 (ranked.held OR ranked.n + ranked.ahead_in + ranked.ahead_out + 1 <= ranked.lim) AS ok
            FROM ranked
        ), inserted AS (
          INSERT INTO provider_slots (job_id, provider)
          SELECT decided.job, decided.prov FROM decided WHERE decided.ok AND NOT decided.held
          ON CONFLICT (job_id) DO UPDATE SET provider = EXCLUDED.provider, acquired_at = now()
        ), served AS (
          DELETE FROM provider_waits w USING decided WHERE decided.ok AND w.job_id = decided.job
        ), waiting AS (
          INSERT INTO provider_waits (job_id, provider, priority, since, seen_at)
          SELECT decided.job, decided.prov, decided.pri, decided.since, now() FROM decided WHERE NOT decided.ok AND decided.since IS NOT NULL
          ON CONFLICT (job_id, provider) DO UPDATE SET priority = EXCLUDED.priority, since = EXCLUDED.since, seen_at = now()
        )
        SELECT decided.o, decided.ok,
               (decided.n + count(*) FILTER (WHERE decided.ok AND NOT decided.held) OVER (PARTITION BY decided.prov))::int
          FROM decided ORDER BY decided.o;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_acquire_provider_slots_in_line(text[], text[], int[], timestamptz[], int[], int)`);
    await q.query(`DROP TABLE IF EXISTS provider_waits`);
  }
}
