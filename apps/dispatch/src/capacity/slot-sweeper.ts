import { isTerminal, jobStreamId } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { mayHoldProviderTask } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import { foldJob } from '../shared/job-stream';
import type { ProviderSlots, SlotPosition } from './provider-slots';

/**
 * Safety net for capacity: frees slots whose job is terminal (or does not exist) in the log, in
 * case a release was missed (a terminal event dead-lettered, a slot taken by a replica that died
 * while the job was being canceled). A canceled job whose provider task may still run keeps its
 * slot until polling records the task's end, or at most `canceledTaskHoldMs` after the cancel. Not a job timer — losing this loop on a crash loses nothing,
 * the next replica's sweep does the same work — so it runs on an in-memory `Periodic`.
 *
 * Each sweep looks at one page of slots, oldest first, and the next sweep goes on after it,
 * starting over once it has passed the newest: with more slots held than a page (long jobs in
 * flight), the ones behind them are still looked at, a page per sweep.
 */
export class SlotSweeper {
  private after: SlotPosition | undefined;

  constructor(
    private readonly deps: { slots: ProviderSlots; store: EventStore; logger: Logger },
    private readonly minAgeMs: number,
    private readonly pageSize = 500,
    private readonly canceledTaskHoldMs = 60 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns how many slots were freed. */
  async sweep(minAgeMs = this.minAgeMs): Promise<number> {
    const page = await this.deps.slots.heldSince(minAgeMs, this.pageSize, this.after);
    this.after = page.length === this.pageSize ? page.at(-1) : undefined;
    const streams = await this.deps.store.readStreams(page.map((s) => jobStreamId(s.jobId)));
    const finished = page.filter(({ jobId }) => {
      const job = foldJob(streams.get(jobStreamId(jobId)) ?? []);
      if (!job.exists) return true;
      if (!isTerminal(job.status)) return false;
      return !mayHoldProviderTask(job) || this.now() - Date.parse(job.completedAt ?? '') >= this.canceledTaskHoldMs;
    });
    // Released together: one DELETE (ProviderSlots batches the releases made at once).
    const freed = (await Promise.all(finished.map(({ jobId }) => this.deps.slots.release(jobId)))).filter(Boolean).length;
    if (freed) this.deps.logger.info({ freed }, 'slot sweep freed slots of finished jobs');
    return freed;
  }
}
