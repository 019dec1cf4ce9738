import { Ticker, type Logger } from '@reelay/service-kit';
import type { NotificationMetrics } from '../notification.metrics';
import type { AttemptResult } from './attempt-result';
import type { RetryPolicy } from './retry-policy';
import type { ClaimedDelivery, WebhookDeliveryStore } from './webhook-delivery-store';

export interface WebhookDelivererOptions {
  store: WebhookDeliveryStore;
  send: (delivery: ClaimedDelivery) => Promise<AttemptResult>;
  policy: RetryPolicy;
  /** Longest an attempt may take (the sender's deadline); a claim's lease outlives it. */
  timeoutMs: number;
  tickMs: number;
  concurrency: number;
  logger: Logger;
  metrics?: NotificationMetrics;
}

/**
 * Sends due webhook deliveries. Event handlers `kick` a job right after recording its status
 * changes; a ticker picks up retries whose time has come and anything a crashed process left
 * behind. Both only ever work on claimed rows (see WebhookDeliveryStore), so the in-memory parts
 * are a latency optimisation: the schedule itself lives in PostgreSQL.
 *
 * About `concurrency` jobs are being sent to at once, kicks and ticks together (kicks that start
 * while a tick's claim is on its way can add a few: claimed rows are never left idle under their
 * lease): a kick with no free slot leaves its rows due for the ticker, and the ticker claims only
 * as many rows as there are free slots, each slot freed as soon as its job is done, so one
 * receiver that takes the whole timeout holds one slot, not the round.
 */
export class WebhookDeliverer {
  private readonly inFlight = new Set<Promise<void>>();
  /** Set by a kick that found no free slot: the next slot to free wakes the ticker. */
  private kickWaiting = false;
  private readonly ticker: Ticker;
  private stopped = true;

  constructor(private readonly opts: WebhookDelivererOptions) {
    this.ticker = new Ticker({
      // Every free slot filled: more may be due. (A kick that found no slot wakes the ticker when one frees.)
      round: async () => {
        const free = this.free;
        const claimed = await this.tick();
        return claimed > 0 && claimed >= free;
      },
      intervalMs: opts.tickMs,
      onError: (err) => opts.logger.warn({ err: (err as Error).message }, 'webhook tick failed'),
    });
  }

  private get leaseMs() {
    return this.opts.timeoutMs * 2 + 1000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.ticker.start();
  }

  /** Stops claiming new work and waits for attempts under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.ticker.stop();
    await this.settled();
  }

  private get free(): number {
    return this.opts.concurrency - this.inFlight.size;
  }

  /** Delivers what is due for one job now, oldest first, without waiting for the ticker. */
  kick(jobId: string): void {
    if (this.stopped) return; // the rows stay due; the next ticker takes them
    if (this.free <= 0) {
      this.kickWaiting = true; // the rows stay due; the ticker takes them when a slot frees
      return;
    }
    this.track(this.drainJob(jobId));
  }

  /** Claims and sends due deliveries of one job until none is due (a failed attempt schedules a retry). */
  async drainJob(jobId: string): Promise<void> {
    // A stopping process starts no further attempt: the rows stay due for the next one (no lease, no attempt counted).
    while (!this.stopped) {
      const [claimed] = await this.opts.store.claim({ jobId, limit: 1, leaseMs: this.leaseMs });
      if (!claimed) return;
      if ((await this.attempt(claimed)) !== 'delivered') return;
    }
  }

  /**
   * Claims as many due deliveries across jobs as there are free slots and starts them (each goes
   * on to its job's next due delivery when delivered); returns how many were claimed.
   */
  async tick(): Promise<number> {
    const free = this.free;
    if (free <= 0) return 0; // a waiting kick stays noted: the slot that frees wakes the ticker
    this.kickWaiting = false;
    const claimed = await this.opts.store.claim({ limit: free, leaseMs: this.leaseMs });
    for (const c of claimed) {
      this.track(
        (async () => {
          if ((await this.attempt(c)) === 'delivered') await this.drainJob(c.jobId);
        })(),
      );
    }
    return claimed.length;
  }

  /** One attempt outside the schedule (a test send): nothing is recorded, nothing retried. */
  sendOnce(delivery: ClaimedDelivery): Promise<AttemptResult> {
    return this.opts.send(delivery);
  }

  /** Resolves when every delivery started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async attempt(claimed: ClaimedDelivery) {
    const result = await this.opts.send(claimed);
    const state = await this.opts.store.finish(claimed, result, this.opts.policy);
    this.opts.metrics?.webhookAttempts.observe({ outcome: result.outcome }, result.durationMs / 1000);
    this.opts.metrics?.webhookDeliveries.inc({ outcome: state === 'pending' ? 'retry' : state });
    const log = { jobId: claimed.jobId, version: claimed.version, attempt: claimed.attempt, outcome: result.outcome, httpStatus: result.httpStatus, state };
    if (state === 'failed') this.opts.logger.warn({ ...log, error: result.error }, 'webhook delivery given up');
    else if (result.notSent) this.opts.logger.warn({ ...log, error: result.error }, 'webhook not sent for a fault of our own; tried again, not counted as an attempt');
    else if (state !== 'delivered') this.opts.logger.info({ ...log, error: result.error }, 'webhook attempt failed');
    return state;
  }

  private track(p: Promise<void>) {
    const task = p
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'webhook delivery failed; the ticker retries'))
      .finally(() => {
        this.inFlight.delete(task);
        if (this.kickWaiting) this.ticker.wake(); // a kick found no slot: this one is free now
      });
    this.inFlight.add(task);
  }
}
