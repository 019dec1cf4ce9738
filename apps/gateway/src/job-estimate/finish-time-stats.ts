import type { DataSource } from 'typeorm';

/** How long a model's recent succeeded jobs took from submit to done, in ms. */
export interface FinishTimes {
  p50Ms: number;
  p90Ms: number;
  jobs: number;
}

/** The newest succeeded jobs of a model that an estimate is drawn from, and the fewest it needs. */
export const ESTIMATE_SAMPLE = 500;
export const ESTIMATE_MIN_JOBS = 5;

/** Submit-to-done times of the model's newest succeeded jobs (job_view's partial index by model); null below the minimum. */
export async function finishTimesOf(dataSource: DataSource, model: string): Promise<FinishTimes | null> {
  const rows: { p50: number | null; p90: number | null; n: number }[] = await dataSource.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90, count(*)::int AS n
       FROM (SELECT extract(epoch FROM completed_at - created_at) * 1000 AS ms
               FROM job_view WHERE status = 'succeeded' AND model = $1
              ORDER BY completed_at DESC LIMIT $2) recent`,
    [model, ESTIMATE_SAMPLE],
  );
  const row = rows[0];
  if (!row || row.n < ESTIMATE_MIN_JOBS || row.p50 === null || row.p90 === null) return null;
  return { p50Ms: Number(row.p50), p90Ms: Number(row.p90), jobs: row.n };
}
