import { creditStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { creditsDecider, creditsLedgerFold } from '@reelay/job-domain';
import { loadJob } from '../shared/job-stream';

/** A finished job settles its hold (success) or releases it (failure, cancel); repeats change nothing. */
export async function settleCredits(deps: { store: EventStore; now: () => Date }, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<void> {
  const job = (await loadJob(deps.store, jobId, atLeastVersion)).state;
  if (!job.exists) return;
  const type = job.status === 'succeeded' ? 'SettleCredits' : job.status === 'failed' || job.status === 'canceled' ? 'ReleaseCredits' : null;
  if (!type) return;
  await handle(deps.store, creditStreamId(job.userId), creditsLedgerFold, (state) => creditsDecider.decide({ type, jobId, now: deps.now() }, state), { metadata });
}
