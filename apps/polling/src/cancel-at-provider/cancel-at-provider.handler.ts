import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { foldRecordedJob } from '@reelay/job-domain';
import { isProviderError } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import { outlivedByTask, recordTaskEnded } from '../drain-canceled-task/drain-check';
import { COPYING_STATUS } from '../schedule/poll-schedule.repository';
import { deadlineFor } from '../schedule/schedule-policy';
import { lastAcceptance } from '../shared/job-stream';
import { providerCall } from '../shared/provider-call';

type Deps = Pick<PollingDeps, 'store' | 'schedule' | 'adapters' | 'logger' | 'metrics' | 'policyFor'>;

/**
 * On JobCanceled (and JobFailed by `provider_timeout`, and JobProviderAcceptedAfterCancel, a task
 * that a submit racing the cancel started): the job has ended for the user; ask the
 * provider to stop too where it can. A canceled job whose task was stopped records that
 * (JobProviderTaskEnded frees its capacity slot) and is no longer followed. One whose task could not
 * be stopped (no cancel call, e.g. Kling; or a refusal, e.g. Ark will not cancel a running task) stays
 * on the schedule as draining: the provider counts the task until it ends, and so does its slot.
 */
export async function cancelAtProvider(deps: Deps, jobId: string, metadata: EventMetadata): Promise<void> {
  const events = await deps.store.readStream(jobStreamId(jobId));
  const job = foldRecordedJob(events).state;
  // No task in the log as read: nothing to stop. A schedule row found now would belong to an
  // acceptance recorded since (after a cancel: JobProviderAcceptedAfterCancel), whose own delivery
  // handles it; removing the row here could undo the drain that delivery set up.
  if (!job.providerTaskId || !job.provider) return;
  // A task the provider reported done, whose output only our copy had not taken yet, has nothing
  // left to stop: a cancel call would at best do nothing, and at Runway delete the finished task.
  const row = await deps.schedule.find(jobId);
  const finished = row?.providerTaskId === job.providerTaskId && row.lastStatus === COPYING_STATUS;
  const stopped = finished || (await askToStop(deps, job.provider, job.providerTaskId));

  if (outlivedByTask(job, job.providerTaskId)) {
    if (stopped) {
      await recordTaskEnded(deps, job.provider, jobId, finished ? 'finished_at_provider' : 'canceled_at_provider', new Date(), metadata);
    } else {
      const acceptedAt = new Date(lastAcceptance(events)?.at ?? Date.now());
      const policy = deps.policyFor(job.provider);
      await deps.schedule.drain({ jobId, provider: job.provider, providerTaskId: job.providerTaskId, acceptedAt, deadlineAt: deadlineFor(acceptedAt, policy), firstCheckAt: new Date(), metadata });
      deps.logger.info({ provider: job.provider }, 'canceled job left running at the provider; checking it until it ends to free its slot');
      return;
    }
  }
  await deps.schedule.remove(jobId);
}

/**
 * True when the provider stopped the task. A refusal or an error is only logged (best effort), and a
 * cancel the provider only passed on to a running task (fal) stops nothing for certain: the task is
 * then checked until it ends, like one the provider refused to stop.
 */
async function askToStop(deps: Deps, provider: string, taskId: string): Promise<boolean> {
  const adapter = deps.adapters.get(provider);
  if (!adapter?.capabilities.cancel || !adapter.cancel) return false;
  try {
    const outcome = await providerCall(deps, adapter, 'cancel', () => adapter.cancel!(taskId));
    if (outcome === 'requested') {
      deps.logger.info({ provider: adapter.name }, 'cancel requested at the provider; the running task may go on, so it is checked until it ends');
      return false;
    }
    deps.logger.info({ provider: adapter.name }, 'canceled at the provider');
    return true;
  } catch (err) {
    deps.logger.warn({ provider: adapter.name, kind: isProviderError(err) ? err.kind : 'error', detail: isProviderError(err) ? err.detail : (err as Error).message }, 'provider cancel refused or failed');
    return false;
  }
}
