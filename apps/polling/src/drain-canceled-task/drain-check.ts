import type { EventMetadata } from '@reelay/contracts';
import { IllegalTransitionError, type JobState } from '@reelay/job-domain';
import { isProviderError, type ProviderCheckResult } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import type { CheckOutcome } from '../check-job/check-job.handler';
import type { ScheduledCheck } from '../schedule/poll-schedule.repository';
import { afterFailedCheck, afterUnfinishedCheck, type NextStep } from '../schedule/schedule-policy';
import { decideOnJob } from '../shared/job-stream';
import { ACCOUNT_REFUSALS, checkAtProvider } from '../shared/provider-call';

type EndReason = 'finished_at_provider' | 'deadline_passed';

/** The provider's answer says the task is over there (done, failed or canceled): it no longer counts it. */
export const taskIsOver = (result: Pick<ProviderCheckResult, 'state'>): boolean => result.state !== 'queued' && result.state !== 'running';

/**
 * How an ended task of a canceled job ended, as the job's cancellation tells it: stopped by the
 * provider (a cancel it took on later, as fal's for a running request) or run to its end there.
 */
export const endReason = (result: Pick<ProviderCheckResult, 'state'>): EndReason | 'canceled_at_provider' =>
  result.state === 'canceled' ? 'canceled_at_provider' : 'finished_at_provider';

/** The job is canceled, but the provider task it was following may still be generating. */
export function outlivedByTask(job: JobState, providerTaskId: string): boolean {
  return job.status === 'canceled' && job.providerTaskOpen && job.providerTaskId === providerTaskId;
}

/**
 * A check of a canceled job's task that the provider could not be asked to stop. The job's outcome
 * is settled (nothing is copied, no progress written); the provider still counts the task against
 * the account's concurrency until it ends, so the job's capacity slot is held until a check sees
 * it end (or the job's deadline passes) and records JobProviderTaskEnded, which frees the slot.
 */
export async function drainCheck(deps: PollingDeps, claim: ScheduledCheck): Promise<CheckOutcome> {
  const started = performance.now();
  const now = () => new Date(claim.claimedAt.getTime() + (performance.now() - started));
  const policy = deps.policyFor(claim.provider);
  const adapter = deps.adapters.get(claim.provider);
  // The job has ended: its own deadline (a check planned at it, a give-up past it) no longer applies.
  const row = { ...claim, cancelAt: null };
  let step: NextStep;
  let failed = false;
  try {
    if (!adapter) throw new Error(`no adapter for ${claim.provider}`);
    const result = await checkAtProvider(deps, adapter, claim.providerTaskId);
    if (taskIsOver(result)) return await ended(deps, claim, endReason(result), now());
    step = afterUnfinishedCheck(row, now(), policy);
  } catch (err) {
    // The provider no longer knows the task (or refuses it for good): nothing there counts it any more.
    if (isProviderError(err) && !err.retryable && !ACCOUNT_REFUSALS.has(err.kind)) return ended(deps, claim, 'finished_at_provider', now());
    step = afterFailedCheck(row, now(), policy, isProviderError(err) ? err.retryAfterMs : undefined);
    failed = true;
  }
  if (step.kind !== 'check_later') return ended(deps, claim, 'deadline_passed', now());
  const kept = await deps.schedule.reschedule(claim, {
    nextCheckAt: step.nextCheckAt,
    checksDone: step.checksDone,
    checkErrors: failed ? claim.checkErrors + 1 : 0,
    lastStatus: 'canceled',
    progress: claim.progress,
    delayedMarked: claim.delayedMarked,
  });
  if (!kept) deps.logger.warn('lease lost before the next drain check was planned; another replica holds this job now');
  return 'unfinished';
}

async function ended(deps: PollingDeps, claim: ScheduledCheck, reason: EndReason | 'canceled_at_provider', now: Date): Promise<CheckOutcome> {
  await recordTaskEnded(deps, claim.provider, claim.jobId, reason, now, claim.metadata);
  await deps.schedule.remove(claim.jobId);
  return 'task_ended';
}

/** Records that a canceled job's provider task is over (a no-op when the log says so already). */
export async function recordTaskEnded(
  deps: Pick<PollingDeps, 'store' | 'logger' | 'metrics'>,
  provider: string,
  jobId: string,
  reason: EndReason | 'canceled_at_provider',
  now: Date,
  metadata: EventMetadata,
): Promise<void> {
  try {
    // Fresh: this process's cached state of the job may predate the cancel, and would refuse the command.
    await decideOnJob(deps.store, jobId, { type: 'RecordProviderTaskEnded', reason, now }, metadata, { fresh: true });
    deps.metrics.canceledTasksEnded.inc({ provider, reason });
    deps.logger.info({ provider, reason }, 'provider task of a canceled job is over; its capacity slot is free');
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    deps.logger.warn({ reason }, 'provider task end not recorded: the job is not canceled');
  }
}
