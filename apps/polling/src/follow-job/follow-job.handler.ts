import { isTerminal, type EventMetadata } from '@reelay/contracts';
import { cancelAt } from '@reelay/job-domain';
import type { PollingDeps } from '../polling.deps';
import { deadlineFor, firstCheckAt } from '../schedule/schedule-policy';
import { loadJob } from '../shared/job-stream';

export interface ProviderAccepted {
  jobId: string;
  provider: string;
  providerTaskId: string;
  at: string;
}

/**
 * On JobProviderAccepted: put the job on the schedule, timed from the acceptance (true when the
 * job is one to follow). Idempotent
 * (redeliveries and replicas insert once); a job that ended before this ran is not followed. A
 * redelivery racing the job's end can still leave a row behind; its first check finds the job
 * over and removes it.
 */
export async function followJob(deps: Pick<PollingDeps, 'store' | 'schedule' | 'policyFor'>, accepted: ProviderAccepted, metadata: EventMetadata): Promise<boolean> {
  const job = await loadJob(deps.store, accepted.jobId);
  if (!job.exists || isTerminal(job.status) || job.providerTaskId !== accepted.providerTaskId) return false;
  const policy = deps.policyFor(accepted.provider);
  const acceptedAt = new Date(accepted.at);
  const giveUpAt = cancelAt(job);
  await deps.schedule.follow({
    jobId: accepted.jobId,
    provider: accepted.provider,
    providerTaskId: accepted.providerTaskId,
    acceptedAt,
    deadlineAt: deadlineFor(acceptedAt, policy),
    cancelAt: giveUpAt,
    firstCheckAt: firstCheckAt(acceptedAt, policy, giveUpAt),
    metadata,
  });
  return true;
}
