import { creditStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { creditsDecider, creditsLedgerFold, type JobState } from '@reelay/job-domain';
import { loadJob } from '../shared/job-stream';

/** What a job's end does with its hold: a success is charged, a failure or cancel gives it back; null while it runs. */
export function settlementOf(job: JobState): 'SettleCredits' | 'ReleaseCredits' | null {
  if (job.status === 'succeeded') return 'SettleCredits';
  return job.status === 'failed' || job.status === 'canceled' ? 'ReleaseCredits' : null;
}

/**
 * A finished job settles its hold (success) or releases it (failure, cancel); repeats change nothing.
 * A user's ledger is a hot stream (their submits, their other jobs' settles): when every optimistic
 * try loses its race, the last one is made under the ledger's lock, so a cancel's release, which the
 * user may be waiting on to submit again, does not fail for a busy ledger.
 */
export async function settleCredits(deps: { store: EventStore; now: () => Date }, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<void> {
  const job = (await loadJob(deps.store, jobId, atLeastVersion)).state;
  if (!job.exists) return;
  const type = settlementOf(job);
  if (!type) return;
  await handle(deps.store, creditStreamId(job.userId), creditsLedgerFold, (state) => creditsDecider.decide({ type, jobId, now: deps.now() }, state), { metadata, lockAfterConflicts: true });
}
