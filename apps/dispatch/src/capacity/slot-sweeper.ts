import { isTerminal, jobStreamId } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import type { Logger } from '@reelay/service-kit';
import { foldJob } from '../shared/job-stream';
import type { ProviderSlots } from './provider-slots';

/**
 * Safety net for capacity: frees slots whose job is terminal (or does not exist) in the log, in
 * case a release was missed (a terminal event dead-lettered, a slot taken by a replica that died
 * while the job was being canceled). Not a job timer — losing this loop on a crash loses nothing,
 * the next replica's sweep does the same work — so it runs on an in-memory `Periodic`.
 */
export class SlotSweeper {
  constructor(
    private readonly deps: { slots: ProviderSlots; store: EventStore; logger: Logger },
    private readonly minAgeMs: number,
  ) {}

  /** Returns how many slots were freed. */
  async sweep(minAgeMs = this.minAgeMs): Promise<number> {
    let freed = 0;
    for (const { jobId } of await this.deps.slots.heldSince(minAgeMs)) {
      const job = foldJob(await this.deps.store.readStream(jobStreamId(jobId)));
      if (job.exists && !isTerminal(job.status)) continue;
      if (await this.deps.slots.release(jobId)) freed++;
    }
    if (freed) this.deps.logger.info({ freed }, 'slot sweep freed slots of finished jobs');
    return freed;
  }
}
