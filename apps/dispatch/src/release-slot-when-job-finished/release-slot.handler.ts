import { jobStreamId, type JobEvent } from '@reelay/contracts';
import { loadStreamState, type EventStore } from '@reelay/event-store';
import { canceledWithUnansweredSubmit, mayHoldProviderTask } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import type { ProviderSlots } from '../capacity/provider-slots';
import type { DispatchOutcome } from '../dispatch-when-job-validated/dispatch-job.deps';
import { LISTING_LAG_MS } from '../dispatch-when-job-validated/submit-failure-policy';
import { dispatchView } from '../dispatch-when-job-validated/submission-history';

type Deps = { slots: ProviderSlots; store: EventStore; logger: Logger };

/** A terminal job gives its capacity slot back; repeats and jobs without a slot change nothing. */
export async function releaseSlotOfFinishedJob(deps: Pick<Deps, 'slots'>, jobId: string): Promise<void> {
  await deps.slots.release(jobId);
}

/**
 * A failed job gives its slot back, unless it failed because its submit's answer was lost at a
 * provider that cannot be asked again: that task may be generating, and the SlotSweeper frees the
 * slot after its bound.
 */
export async function releaseSlotOfFailedJob(deps: Deps, jobId: string, failed: Extract<JobEvent, { type: 'JobFailed' }>['data']): Promise<void> {
  if (failed.providerTaskMayExist) {
    deps.logger.info({ jobId }, 'job failed with its submit unanswered; its slot is held in case the provider made the task');
    return;
  }
  await deps.slots.release(jobId);
}

/**
 * A canceled job gives its slot back only once its provider task is over: a provider that could not
 * be told to stop still counts the task against the account's limit, and a slot freed early would
 * let a new submit run into that limit (429s). Polling records the task's end (JobProviderTaskEnded,
 * released by `releaseSlotOfFinishedJob`); the SlotSweeper frees the slot anyway after a bound.
 *
 * A job canceled while a retry of its submit was pending (the last try answered with an error) is
 * settled now through `settleSubmit` (dispatch's own handling of a canceled job: a task found by our
 * key is followed, else the slot goes) rather than when the retry would have come due, which after a
 * long Retry-After held the slot for minutes. Not before LISTING_LAG_MS after that answer, so that a
 * task a timed-out try made late is listed by then.
 */
export async function releaseSlotOfCanceledJob(
  deps: Deps & { now: () => Date },
  jobId: string,
  settleSubmit: () => Promise<DispatchOutcome>,
): Promise<DispatchOutcome> {
  const { job, history } = (await loadStreamState(deps.store, jobStreamId(jobId), dispatchView)).state;
  if (!mayHoldProviderTask(job)) {
    await deps.slots.release(jobId);
    return { kind: 'done' };
  }
  if (canceledWithUnansweredSubmit(job) && history.rejectedAt) {
    const wait = history.rejectedAt.getTime() + LISTING_LAG_MS - deps.now().getTime();
    if (wait > 0) return { kind: 'later', delayMs: wait, why: 'retry' };
    return settleSubmit();
  }
  deps.logger.info({ provider: job.provider }, 'job canceled while its task may still run at the provider (or its submit is unanswered); its slot is held until that is settled');
  return { kind: 'done' };
}

/**
 * Deliveries of one JobCanceled that look again for the task of an unanswered submit before leaving
 * that to the job's JobValidated delivery, which is still pending (it waits by redelivery without a
 * bound) and settles a canceled job the same way. Below dispatch-release-slots' maxDeliver (10), so a
 * provider whose task list fails for minutes makes no dead letter, which would be a false alarm.
 */
export const CANCELED_LOOKUP_DELIVERIES = 5;

/** Whether a JobCanceled delivery's outcome is waited for by redelivery (else it is acked). */
export function redeliverCanceled(outcome: DispatchOutcome, deliveries: number): boolean {
  // 'busy': a delivery of the submit holds the job and settles the canceled job itself.
  return outcome.kind === 'later' && outcome.why !== 'busy' && deliveries < CANCELED_LOOKUP_DELIVERIES;
}
