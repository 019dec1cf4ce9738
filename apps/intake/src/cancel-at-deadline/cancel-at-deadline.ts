import { isTerminal, jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { deadlineCancelDue, decideJob, IllegalTransitionError, jobDecider } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import { settleCredits } from '../settle-credits/settle-credits.handler';
import type { IntakeMetrics } from '../shared/intake-metrics';
import { loadJob } from '../shared/job-stream';
import { dropDeadline, dueDeadlines, moveDeadline, type DueDeadline } from '../shared/job-deadlines';

/** A deadline whose job is not in the log this long after the submit wrote it is dropped: that submit never committed. */
const NEVER_SUBMITTED_AFTER_MS = 60_000;
/**
 * How far a row that could not be settled this round is put off: it must leave the head of the
 * earliest-first list, or a batch of them would be taken again at once, round after round.
 */
const NOT_YET_RETRY_MS = 15_000;
const FAILED_RETRY_MS = 60_000;

export interface DeadlineDeps {
  store: EventStore;
  now: () => Date;
  logger: Pick<Logger, 'warn'>;
  metrics?: Pick<IntakeMetrics, 'deadlineCancels' | 'deadlineFailures'>;
}

export interface DeadlineRound {
  canceled: string[];
  /** The round took as many deadlines as it may, and settled some: more may be due at once. */
  more: boolean;
}

/**
 * Cancels the unfinished jobs whose `cancelAfterSeconds` has passed, at most `limit` a round, and
 * releases their credit holds, as their owner's cancel would. Deadlines are intake's own rows
 * (job_deadlines), written at submit, so they are kept whatever the job list shows. The decider
 * checks each against the job's log and this clock: a job that ended first is left alone and its
 * row dropped, and one whose row came due a moment before its logged deadline is moved to that. A
 * job running at a provider is polling's to cancel, at the check it makes at the deadline (the video
 * may be done): its row is moved to the end of the grace after it, when it is canceled unchecked.
 * A job that cannot be canceled for another reason (an event this release cannot read) is logged
 * and tried again next round, without holding up the others.
 */
export async function cancelOverdueJobs(deps: DeadlineDeps, limit = 200): Promise<DeadlineRound> {
  const db = deps.store.dataSource;
  const due = await dueDeadlines(db, deps.now(), limit);
  const canceled: string[] = [];
  let failed = 0;
  for (const deadline of due) {
    try {
      if (!(await cancelAtDeadline(deps, deadline))) continue;
      canceled.push(deadline.jobId);
      deps.metrics?.deadlineCancels.inc();
    } catch (err) {
      failed++;
      deps.metrics?.deadlineFailures.inc();
      deps.logger.warn({ err: String(err), jobId: deadline.jobId }, 'could not cancel a job at its deadline; trying again in a minute');
      await moveDeadline(db, deadline.jobId, new Date(deps.now().getTime() + FAILED_RETRY_MS)).catch(() => undefined);
    }
  }
  // A round where every cancel failed (a database refusing writes) may not have put any row off: wait as usual.
  return { canceled, more: due.length === limit && failed < due.length };
}

/** Whether this call canceled the job; settles its row either way. */
async function cancelAtDeadline(deps: DeadlineDeps, { jobId, userId, recordedAt }: DueDeadline): Promise<boolean> {
  const db = deps.store.dataSource;
  const metadata: EventMetadata = { correlationId: `deadline:${jobId}`, userId };
  try {
    const { events } = await handle(deps.store, jobStreamId(jobId), jobDecider, (state) => decideJob({ type: 'Cancel', atDeadline: true, now: deps.now() }, state), { metadata });
    await dropDeadline(db, jobId);
    if (events.length === 0) return false;
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    const { state } = await loadJob(deps.store, jobId);
    // Not yet: its logged deadline is a moment later, or polling checks its provider task at it first.
    const due = state.exists && !isTerminal(state.status) ? deadlineCancelDue(state) : null;
    if (due) await moveDeadline(db, jobId, due > deps.now() ? due : new Date(deps.now().getTime() + NOT_YET_RETRY_MS));
    else if (state.exists) await dropDeadline(db, jobId);
    // Not one a retried submit wrote since this round read it: that submit may be committing its job now.
    else if (deps.now().getTime() - recordedAt.getTime() > NEVER_SUBMITTED_AFTER_MS) await dropDeadline(db, jobId, recordedAt);
    else await moveDeadline(db, jobId, new Date(deps.now().getTime() + NOT_YET_RETRY_MS));
    return false;
  }
  await settleCredits(deps, jobId, metadata).catch((err: unknown) =>
    deps.logger.warn({ err: String(err), jobId }, 'could not release the credits of a job canceled at its deadline yet; its JobCanceled delivery will'),
  );
  return true;
}
