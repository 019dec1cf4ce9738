import { isTerminal, jobStreamId } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { mayHoldProviderTask } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import { foldJob } from '../shared/job-stream';
import type { ProviderSlots, SlotPosition } from './provider-slots';

export interface SlotSweeperOptions {
  /** Slots younger than this are left alone (their job may not be in the log yet). */
  minAgeMs: number;
  pageSize?: number;
  /** The longest a finished job keeps its slot for a task polling follows (its end not yet recorded). */
  trackedTaskHoldMs?: number;
  /** How long a finished job keeps its slot for a task that may exist but that nothing follows. */
  untrackedTaskHoldMs?: number;
  now?: () => number;
}

/**
 * Safety net for capacity: frees slots whose job is terminal (or does not exist) in the log, in
 * case a release was missed (a terminal event dead-lettered, a slot taken by a replica that died
 * while the job was being canceled). A finished job whose provider task may still run keeps its
 * slot: one polling follows until its end is recorded, or at most `trackedTaskHoldMs`; one nothing
 * follows (a submit that got no answer) for `untrackedTaskHoldMs`, about as long as a generation
 * takes. Not a job timer — losing this loop on a crash loses nothing, the next replica's sweep
 * does the same work — so it runs on an in-memory `Periodic`.
 *
 * Each sweep looks at one page of slots, oldest first, and the next sweep goes on after it,
 * starting over once it has passed the newest: with more slots held than a page (long jobs in
 * flight), the ones behind them are still looked at, a page per sweep.
 */
export class SlotSweeper {
  private after: SlotPosition | undefined;
  private readonly options: Required<SlotSweeperOptions>;

  constructor(
    private readonly deps: { slots: ProviderSlots; store: EventStore; logger: Logger },
    options: SlotSweeperOptions,
  ) {
    this.options = { pageSize: 500, trackedTaskHoldMs: 60 * 60_000, untrackedTaskHoldMs: 15 * 60_000, now: Date.now, ...options };
  }

  /** Returns how many slots were freed. */
  async sweep(minAgeMs = this.options.minAgeMs): Promise<number> {
    const { pageSize, trackedTaskHoldMs, untrackedTaskHoldMs, now } = this.options;
    const page = await this.deps.slots.heldSince(minAgeMs, pageSize, this.after);
    this.after = page.length === pageSize ? page.at(-1) : undefined;
    const streams = await this.deps.store.readStreams(page.map((s) => jobStreamId(s.jobId)));
    const finished = page.filter(({ jobId }) => {
      const job = foldJob(streams.get(jobStreamId(jobId)) ?? []);
      if (!job.exists) return true;
      if (!isTerminal(job.status)) return false;
      if (!mayHoldProviderTask(job)) return true;
      const hold = job.providerTaskOpen ? trackedTaskHoldMs : untrackedTaskHoldMs;
      return now() - Date.parse(job.completedAt ?? '') >= hold;
    });
    // Released together: one DELETE (ProviderSlots batches the releases made at once).
    const freed = (await Promise.all(finished.map(({ jobId }) => this.deps.slots.release(jobId)))).filter(Boolean).length;
    if (freed) this.deps.logger.info({ freed }, 'slot sweep freed slots of finished jobs');
    await this.deps.slots.forgetStaleWaits();
    return freed;
  }
}
