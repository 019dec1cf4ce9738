import { jobStreamId } from '@reelay/contracts';
import type { PollingDeps } from '../polling.deps';
import { lastAcceptance } from '../shared/job-stream';
import { followJob } from './follow-job.handler';

/** How long a job may show running without a schedule row before the sweep follows it. */
export const FOLLOW_SWEEP_MIN_AGE_MS = 10 * 60_000;
export const FOLLOW_SWEEP_EVERY_MS = 5 * 60_000;

/**
 * Safety net for the follow: a job whose JobProviderAccepted delivery was dead-lettered (after
 * hundreds of failed deliveries, an outage of hours) or lost to a bug is running with no schedule
 * row, so nothing would check it, time it out or release its slot. The sweep finds such jobs and
 * follows them from their logged acceptance, as the delivery would have: their deadline still
 * counts from the acceptance, so one found past it is checked once and then ends. Like the
 * delivery it is idempotent, so replicas sweeping at once, or the delivery arriving late, insert
 * one row. Returns the jobs it put on the schedule.
 */
export async function followUnfollowed(deps: Pick<PollingDeps, 'store' | 'schedule' | 'policyFor' | 'logger'>, minAgeMs = FOLLOW_SWEEP_MIN_AGE_MS, limit = 200): Promise<string[]> {
  const followed: string[] = [];
  for (const jobId of await deps.schedule.unfollowed(minAgeMs, limit)) {
    const accepted = lastAcceptance(await deps.store.readStream(jobStreamId(jobId)));
    if (!accepted) continue;
    const accept = { jobId, provider: accepted.provider, providerTaskId: accepted.providerTaskId, at: accepted.at };
    if (await followJob(deps, accept, accepted.metadata)) followed.push(jobId);
  }
  if (followed.length) deps.logger.warn({ jobIds: followed }, 'followed jobs that were running without a schedule (their JobProviderAccepted delivery was lost or dead-lettered)');
  return followed;
}
