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
 */
export class WebhookDeliverer {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly ticker: Ticker;
  private stopped = true;

  constructor(private readonly opts: WebhookDelivererOptions) {
    this.ticker = new Ticker({
      // A full batch means more may be due: go again at once.
      round: async () => (await this.tick()) >= opts.concurrency,
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
    await Promise.allSettled([...this.inFlight]);
  }

  /** Delivers what is due for one job now, oldest first, without waiting for the ticker. */
  kick(jobId: string): void {
    if (this.stopped) return; // the rows stay due; the next ticker takes them
    this.track(this.drainJob(jobId));
  }

  /** Claims and sends due deliveries of one job until none is due (a failed attempt schedules a retry). */
  async drainJob(jobId: string): Promise<void> {
    for (;;) {
      const [claimed] = await this.opts.store.claim({ jobId, limit: 1, leaseMs: this.leaseMs });
      if (!claimed) return;
      if ((await this.attempt(claimed)) !== 'delivered') return;
    }
  }

  /** One pass over due deliveries across jobs; returns how many were claimed. */
  async tick(): Promise<number> {
    const claimed = await this.opts.store.claim({ limit: this.opts.concurrency, leaseMs: this.leaseMs });
    await Promise.allSettled(
      claimed.map(async (c) => {
        if ((await this.attempt(c)) === 'delivered') await this.drainJob(c.jobId);
      }),
    );
    return claimed.length;
  }

  private async attempt(claimed: ClaimedDelivery) {
    const result = await this.opts.send(claimed);
    const state = await this.opts.store.finish(claimed, result, this.opts.policy);
    this.opts.metrics?.webhookAttempts.observe({ outcome: result.outcome }, result.durationMs / 1000);
    this.opts.metrics?.webhookDeliveries.inc({ outcome: state === 'pending' ? 'retry' : state });
    const log = { jobId: claimed.jobId, version: claimed.version, attempt: claimed.attempt, outcome: result.outcome, httpStatus: result.httpStatus, state };
    if (state === 'failed') this.opts.logger.warn({ ...log, error: result.error }, 'webhook delivery given up');
    else if (state !== 'delivered') this.opts.logger.info({ ...log, error: result.error }, 'webhook attempt failed');
    return state;
  }

  private track(p: Promise<void>) {
    const task = p
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'webhook delivery failed; the ticker retries'))
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }
}
