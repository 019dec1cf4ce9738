import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, jobDecider } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import { settleCredits } from '../settle-credits/settle-credits.handler';

/**
 * Unfinished jobs whose deadline has come, the earliest first, as the job list shows them. `cancelAt`
 * is written by toISOString (always UTC, always 24 characters), so text order is time order and the
 * partial index job_view_cancel_at_idx (migration 0010) serves the range.
 */
const OVERDUE_SQL = `
  SELECT job_id, user_id FROM job_view
  WHERE job ? 'cancelAt' AND status IN ('queued', 'validating', 'running', 'delayed') AND job->>'cancelAt' <= $1
  ORDER BY job->>'cancelAt' LIMIT $2`;

export interface DeadlineDeps {
  store: EventStore;
  now: () => Date;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Cancels the unfinished jobs whose `cancelAfterSeconds` has passed, at most `limit` a round, and
 * releases their credit holds, as their owner's cancel would; answers the jobs it canceled. The job
 * list trails the log: a job it shows unfinished may have ended meanwhile (the decider then refuses
 * and it is skipped), and a job not shown yet is canceled at a later round. The decider checks the
 * deadline against this clock too, so a job is never canceled before it.
 */
export async function cancelOverdueJobs(deps: DeadlineDeps, limit = 200): Promise<string[]> {
  const rows: { job_id: string; user_id: string }[] = await deps.store.dataSource.query(OVERDUE_SQL, [deps.now().toISOString(), limit]);
  const canceled: string[] = [];
  for (const { job_id: jobId, user_id: userId } of rows) {
    const metadata: EventMetadata = { correlationId: `deadline:${jobId}`, userId };
    try {
      const result = await handle(deps.store, jobStreamId(jobId), jobDecider, (state) => decideJob({ type: 'Cancel', atDeadline: true, now: deps.now() }, state), { metadata });
      if (result.events.length === 0) continue;
    } catch (err) {
      if (err instanceof IllegalTransitionError) continue;
      throw err;
    }
    canceled.push(jobId);
    await settleCredits(deps, jobId, metadata).catch((err: unknown) =>
      deps.logger.warn({ err: String(err), jobId }, 'could not release the credits of a job canceled at its deadline yet; its JobCanceled delivery will'),
    );
  }
  return canceled;
}
