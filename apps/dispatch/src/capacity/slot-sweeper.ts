import { isTerminal, jobStreamId } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import type { Logger } from '@reelay/service-kit';
import { refreshInFlight } from '../dispatch-when-job-validated/dispatch-job.handler';
import type { DispatchMetrics } from '../shared/dispatch-metrics';
import { foldJob } from '../shared/job-stream';
import type { ProviderSlots } from './provider-slots';

/**
 * Safety net for capacity: frees slots whose job is terminal (or does not exist) in the log, in
 * case a release was missed (a terminal event dead-lettered, a slot taken by a replica that died
 * while the job was being canceled). Not a job timer — losing this loop on a crash loses nothing,
 * the next replica's sweep does the same work — so an in-memory interval is fine here.
 */
export class SlotSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: { slots: ProviderSlots; store: EventStore; metrics: DispatchMetrics; logger: Logger },
    private readonly everyMs: number,
  ) {}

  start(): void {
    if (this.everyMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .then(() => undefined, (err: unknown) => this.deps.logger.warn({ err: String(err) }, 'slot sweep failed'))
        .finally(() => (this.running = null));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Returns how many slots were freed. */
  async sweep(minAgeMs = this.everyMs): Promise<number> {
    let freed = 0;
    for (const { jobId } of await this.deps.slots.heldSince(minAgeMs)) {
      const job = foldJob(await this.deps.store.readStream(jobStreamId(jobId)));
      if (job.exists && !isTerminal(job.status)) continue;
      if (await this.deps.slots.release(jobId)) freed++;
    }
    await refreshInFlight(this.deps);
    if (freed) this.deps.logger.info({ freed }, 'slot sweep freed slots of finished jobs');
    return freed;
  }
}
