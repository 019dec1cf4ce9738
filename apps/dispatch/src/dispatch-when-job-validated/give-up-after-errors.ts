import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle } from '@reelay/event-store';
import { decideJob, type SubmissionIntent } from '@reelay/job-domain';
import { isProviderError } from '@reelay/providers';
import { scrubSecrets } from '@reelay/service-kit';
import { dispatchJob } from './dispatch-job.handler';
import { DONE, type DispatchJobDeps, type DispatchOutcome } from './dispatch-job.deps';
import type { ErrorStreak } from './error-streaks';
import { findsBySubmissionKey } from './provider-abilities';
import { cancelOrphan } from './record-answer';
import { dispatchView } from './submission-history';

/** A streak shorter than this many errors never gives up, however long ago its first one was. */
export const MIN_ERRORS_TO_GIVE_UP = 3;

export function givesUp(streak: ErrorStreak, now: Date, giveUpAfterMs: number): boolean {
  return giveUpAfterMs > 0 && streak.errors >= MIN_ERRORS_TO_GIVE_UP && now.getTime() - streak.firstAt.getTime() >= giveUpAfterMs;
}

/**
 * dispatchJob, with an end to a job whose dispatch keeps throwing (an unreadable image file, an
 * adapter bug, a rule the log keeps refusing). Such a delivery comes back within a minute and
 * JetStream never dead-letters it (dispatch waits by redelivery, so its deliveries are unbounded):
 * without this the job would stay `validating`, its credits held, until the stream dropped the event
 * 7 days later and left it there for good. Once every delivery has thrown for
 * DISPATCH_GIVE_UP_AFTER_ERRORS_MS (ErrorStreaks) the job fails with unknown_provider_error, its
 * credits given back, and the error is in its detail and the log for the operator. Errors met while
 * PostgreSQL is unreachable cannot be counted, and break the streak, so an outage does not fail jobs.
 */
export async function dispatchOrGiveUp(deps: DispatchJobDeps, jobId: string, metadata: EventMetadata, delivery: number, atLeastVersion?: number): Promise<DispatchOutcome> {
  try {
    return await dispatchJob(deps, jobId, metadata, atLeastVersion);
  } catch (err) {
    if (deps.giveUpAfterErrorsMs <= 0) throw err;
    const error = scrubSecrets(String(err)).slice(0, 500);
    const streak = await deps.errorStreaks.note(jobId, delivery, error, deps.now()).catch((noteErr: unknown) => {
      deps.logger.warn({ jobId, err: String(noteErr) }, 'could not count a dispatch error');
      return null;
    });
    if (!streak || !givesUp(streak, deps.now(), deps.giveUpAfterErrorsMs)) throw err;
    const ended = await failStuckJob(deps, jobId, metadata, streak, error);
    if (ended === 'busy') throw err;
    // A job no longer waiting to be sent (canceled, say) is left to the slot sweep and the other
    // consumers: the message is let go rather than delivered for the rest of the stream's 7 days.
    if (ended === 'not_waiting') deps.logger.warn({ jobId, errors: streak.errors, lastError: error }, 'dispatch kept failing on a job no longer waiting to be sent; its message is let go');
    await deps.errorStreaks.forget(jobId).catch(() => undefined);
    return DONE;
  }
}

/** Fails the job if it is still waiting to be sent (`failed`); `busy` when another delivery holds it. */
async function failStuckJob(deps: DispatchJobDeps, jobId: string, metadata: EventMetadata, streak: ErrorStreak, error: string): Promise<'failed' | 'not_waiting' | 'busy'> {
  const lease = await deps.locks.tryLock(jobId);
  if (!lease) return 'busy';
  try {
    const minutes = Math.round((deps.now().getTime() - streak.firstAt.getTime()) / 60_000);
    const detail = `dispatch failed ${streak.errors} times in a row over ${minutes} min; the last error: ${error}`;
    let unanswered = null as { intent: SubmissionIntent; since: Date | null } | null;
    const result = await handle(deps.store, jobStreamId(jobId), dispatchView, ({ job, history }) => {
      if (job.status !== 'validating') return [];
      // A try whose answer the errors may have lost (an intent not followed by a refusal) can have
      // made a task: its slot stays held (the slot sweep's hold), and it is stopped below if it can be found.
      unanswered = job.intent && !history.lastTryRejected ? { intent: job.intent, since: history.intentAt } : null;
      return decideJob({ type: 'Fail', errorCode: 'unknown_provider_error', detail, ...(unanswered ? { providerTaskMayExist: true } : {}), now: deps.now() }, job);
    }, { metadata });
    if (result.events.length === 0) return 'not_waiting';
    deps.logger.error({ jobId, errors: streak.errors, since: streak.firstAt.toISOString(), lastError: error }, 'dispatch kept failing on this job; it fails with unknown_provider_error');
    if (unanswered) await stopUnrecordedTask(deps, jobId, unanswered);
    return 'failed';
  } finally {
    await lease.release();
  }
}

/**
 * Where the provider can be searched by our key, a task the unanswered try made (an acceptance
 * that could not be recorded) is found and canceled: the job has failed and its credits are back,
 * so the task must not go on generating and billing. Best effort: where it cannot be found or
 * stopped, its slot is held for the slot sweep's hold as for any task that may exist.
 */
async function stopUnrecordedTask(deps: DispatchJobDeps, jobId: string, { intent, since }: { intent: SubmissionIntent; since: Date | null }): Promise<void> {
  const adapter = deps.adapters.get(intent.provider);
  if (!adapter || !findsBySubmissionKey(deps, adapter)) return;
  try {
    const found = await adapter.findBySubmissionKey(intent.submissionKey, undefined, since ?? undefined);
    if (found) await cancelOrphan(deps, jobId, adapter, found);
  } catch (err) {
    deps.logger.warn({ jobId, provider: intent.provider, err: isProviderError(err) ? err.detail : String(err) }, 'could not look for the task of a job given up after errors');
  }
}
