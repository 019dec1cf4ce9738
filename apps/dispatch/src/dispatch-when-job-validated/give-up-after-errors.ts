import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle } from '@reelay/event-store';
import { decideJob } from '@reelay/job-domain';
import { scrubSecrets } from '@reelay/service-kit';
import { dispatchJob } from './dispatch-job.handler';
import { DONE, type DispatchJobDeps, type DispatchOutcome } from './dispatch-job.deps';
import type { ErrorStreak } from './error-streaks';
import { dispatchView } from './submission-history';

/** A streak shorter than this many errors never gives up, however long ago its first one was. */
export const MIN_ERRORS_TO_GIVE_UP = 3;

export function givesUp(streak: ErrorStreak, now: Date, giveUpAfterMs: number): boolean {
  return giveUpAfterMs > 0 && streak.errors >= MIN_ERRORS_TO_GIVE_UP && now.getTime() - streak.firstAt.getTime() >= giveUpAfterMs;
}

/**
 * dispatchJob, with an end to a job whose dispatch keeps throwing (an unreadable image file, an
 * adapter bug, a rule the log keeps refusing). Such a delivery comes back about once a minute and
 * JetStream never dead-letters it (dispatch waits by redelivery, so its deliveries are unbounded):
 * without this the job would stay `validating`, its credits held, until the stream dropped the event
 * 7 days later and left it there for good. After DISPATCH_GIVE_UP_AFTER_ERRORS_MS of errors in a row
 * the job fails with unknown_provider_error, its credits given back, and the error is in its detail
 * and the log for the operator. Errors met while PostgreSQL is down cannot be counted, so an outage
 * does not fail jobs.
 */
export async function dispatchOrGiveUp(deps: DispatchJobDeps, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<DispatchOutcome> {
  try {
    return await dispatchJob(deps, jobId, metadata, atLeastVersion);
  } catch (err) {
    if (deps.giveUpAfterErrorsMs <= 0) throw err;
    const error = scrubSecrets(String(err)).slice(0, 500);
    const streak = await deps.errorStreaks.note(jobId, error, deps.now()).catch((noteErr: unknown) => {
      deps.logger.warn({ jobId, err: String(noteErr) }, 'could not count a dispatch error');
      return null;
    });
    if (!streak || !givesUp(streak, deps.now(), deps.giveUpAfterErrorsMs)) throw err;
    if (!(await failStuckJob(deps, jobId, metadata, streak, error))) throw err;
    await deps.errorStreaks.forget(jobId).catch(() => undefined);
    return DONE;
  }
}

/** Fails the job if it is still waiting to be sent; false when it is not (or another delivery holds it). */
async function failStuckJob(deps: DispatchJobDeps, jobId: string, metadata: EventMetadata, streak: ErrorStreak, error: string): Promise<boolean> {
  const lease = await deps.locks.tryLock(jobId);
  if (!lease) return false;
  try {
    const minutes = Math.round((deps.now().getTime() - streak.firstAt.getTime()) / 60_000);
    const detail = `dispatch failed ${streak.errors} times in a row over ${minutes} min; the last error: ${error}`;
    const result = await handle(deps.store, jobStreamId(jobId), dispatchView, ({ job }) => {
      if (job.status !== 'validating') return [];
      // A try whose answer the errors may have lost can have made a task: its slot stays held (the slot sweep's hold).
      const providerTaskMayExist = job.intent !== null && job.providerTaskId === null;
      return decideJob({ type: 'Fail', errorCode: 'unknown_provider_error', detail, ...(providerTaskMayExist ? { providerTaskMayExist } : {}), now: deps.now() }, job);
    }, { metadata });
    if (result.events.length === 0) return false;
    deps.logger.error({ jobId, errors: streak.errors, since: streak.firstAt.toISOString(), lastError: error }, 'dispatch kept failing on this job; it fails with unknown_provider_error');
    return true;
  } finally {
    await lease.release();
  }
}
