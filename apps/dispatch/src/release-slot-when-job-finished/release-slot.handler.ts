import { jobStreamId, type JobEvent } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { mayHoldProviderTask } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import type { ProviderSlots } from '../capacity/provider-slots';
import { foldJob } from '../shared/job-stream';

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
 */
export async function releaseSlotOfCanceledJob(deps: Deps, jobId: string): Promise<void> {
  const job = foldJob(await deps.store.readStream(jobStreamId(jobId)));
  if (mayHoldProviderTask(job)) {
    deps.logger.info({ provider: job.provider }, 'job canceled while its task may still run at the provider (or its submit is unanswered); its slot is held until that is settled');
    return;
  }
  await deps.slots.release(jobId);
}
