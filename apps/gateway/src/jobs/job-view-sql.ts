import { PROJECTION_REBUILDING_SQL } from '@reelay/event-store';
import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import type { DataSource } from 'typeorm';
import { ApiException } from '../errors/api-exception';

/** job_view rows of unfinished jobs (its status index; jobs are few once finished ones are left out). */
export const UNFINISHED_IN_JOB_VIEW = `status IN ('queued', 'validating', 'running', 'delayed')`;

/**
 * How far job_view trails the log (events after its checkpoint, all of them while it is rebuilt),
 * and whether it is being rebuilt: the operator's rebuild marks it until it has caught up with the
 * log as it was, however short the log (rebuild-projection.ts).
 */
const JOB_VIEW_LAG_SQL = `
  SELECT coalesce((SELECT max(global_position) FROM events), 0)
       - coalesce((SELECT global_position FROM checkpoints WHERE name = $1), 0) AS lag,
         (${PROJECTION_REBUILDING_SQL}) AS rebuilding`;

/**
 * job_view this far behind the log (a stuck projection, a rebuild of a long log) cannot say which
 * jobs are unfinished. A burst of submits puts it a few thousand events behind for a moment, which
 * must not refuse the routes that read it.
 */
const MAX_JOB_VIEW_LAG = 20_000;

/** job_view lacks jobs: it is being rebuilt (however short the log), or trails the log too far. */
export async function jobViewIncomplete(db: Pick<DataSource, 'query'>): Promise<boolean> {
  const [{ lag, rebuilding }] = (await db.query(JOB_VIEW_LAG_SQL, [JOB_VIEW_PROJECTION])) as { lag: string; rebuilding: boolean }[];
  return rebuilding || Number(lag) > MAX_JOB_VIEW_LAG;
}

/**
 * Refuses (503) what needs the job list whole while it is being rebuilt or far behind the log: it
 * lacks jobs, so it cannot tell `whatItCannotTell`.
 */
export async function unlessJobListRebuilding(db: Pick<DataSource, 'query'>, whatItCannotTell: string): Promise<void> {
  if (await jobViewIncomplete(db)) {
    throw new ApiException('service_unavailable', `The job list is being rebuilt, so it cannot tell yet ${whatItCannotTell}. Try again in a minute.`, { headers: { 'Retry-After': '60' } });
  }
}
