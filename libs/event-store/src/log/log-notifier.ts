import type { DataSource, QueryRunner } from 'typeorm';

export const EVENTS_CHANNEL = 'reelay_events';

interface NotifyingClient {
  on(event: 'notification', listener: (msg: { channel: string }) => void): unknown;
  on(event: 'end' | 'error', listener: () => void): unknown;
  removeListener(event: 'notification', listener: (msg: { channel: string }) => void): unknown;
  removeListener(event: 'end' | 'error', listener: () => void): unknown;
}

/** How soon a LISTEN connection that failed to come back is tried again. */
const RELISTEN_BACKOFF_MS = 1000;

/**
 * Wakes tailing readers when events are committed (a statement trigger NOTIFYs `reelay_events`,
 * delivered at commit). Only a hint: a reader may still find nothing new, because a row becomes
 * readable when every older transaction in the cluster has ended, and the transaction that ends
 * last may not have written events (no notification then). Readers keep polling as the fallback.
 * Holds one pooled connection while started; when that connection ends (a PostgreSQL restart, a
 * terminated backend), the next wait listens again on a new one, or readers would poll for good.
 */
export class LogNotifier {
  private runner?: QueryRunner;
  private client?: NotifyingClient;
  private started = false;
  private lost = false;
  private relistenAfter = 0;
  private relistening?: Promise<void>;
  private pending = false;
  private waiter?: () => void;
  private readonly onNotification = (msg: { channel: string }) => {
    if (msg.channel === EVENTS_CHANNEL) this.wake();
  };
  private readonly onLost = () => {
    this.lost = true;
  };

  constructor(private readonly dataSource: DataSource) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as NotifyingClient;
    client.on('notification', this.onNotification);
    client.on('end', this.onLost);
    client.on('error', this.onLost);
    this.runner = runner;
    this.client = client;
    this.lost = false;
    await runner.query(`LISTEN ${EVENTS_CHANNEL}`);
  }

  /**
   * Resolves on the next notification (or one that arrived since the last wait): true; or after
   * `timeoutMs`: false.
   */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.lost && this.started) this.relisten();
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const self = this;
      function done(notified: boolean) {
        clearTimeout(timer);
        if (self.waiter === woken) self.waiter = undefined;
        self.pending = false;
        resolve(notified);
      }
      const woken = () => done(true);
      this.waiter = woken;
    });
  }

  private relisten(): void {
    if (this.relistening || Date.now() < this.relistenAfter) return;
    this.relistening = (async () => {
      const old = this.runner;
      this.drop();
      await old?.release().catch(() => undefined);
      try {
        await this.listen();
      } catch {
        this.lost = true; // readers poll meanwhile
        this.relistenAfter = Date.now() + RELISTEN_BACKOFF_MS;
      }
    })().finally(() => (this.relistening = undefined));
  }

  private drop(): void {
    this.client?.removeListener('notification', this.onNotification);
    this.client?.removeListener('end', this.onLost);
    this.client?.removeListener('error', this.onLost);
    this.client = undefined;
    this.runner = undefined;
  }

  /** Wakes the current waiter now (used on stop, and by notifications). */
  wake(): void {
    if (this.waiter) this.waiter();
    else this.pending = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.relistening;
    const runner = this.runner;
    this.drop();
    this.wake();
    if (!runner) return;
    await runner.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
    await runner.release();
  }
}
