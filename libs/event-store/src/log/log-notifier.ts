import type { DataSource, QueryRunner } from 'typeorm';

export const EVENTS_CHANNEL = 'reelay_events';

interface NotifyingClient {
  on(event: 'notification', listener: (msg: { channel: string }) => void): unknown;
  removeListener(event: 'notification', listener: (msg: { channel: string }) => void): unknown;
}

/**
 * Wakes tailing readers when events are committed (a statement trigger NOTIFYs `reelay_events`,
 * delivered at commit). Only a hint: a reader may still find nothing new, because a row becomes
 * readable when every older transaction in the cluster has ended, and the transaction that ends
 * last may not have written events (no notification then). Readers keep polling as the fallback.
 * Holds one pooled connection while started.
 */
export class LogNotifier {
  private runner?: QueryRunner;
  private client?: NotifyingClient;
  private pending = false;
  private waiter?: () => void;
  private readonly onNotification = (msg: { channel: string }) => {
    if (msg.channel === EVENTS_CHANNEL) this.wake();
  };

  constructor(private readonly dataSource: DataSource) {}

  async start(): Promise<void> {
    if (this.runner) return;
    const runner = this.dataSource.createQueryRunner();
    this.client = (await runner.connect()) as NotifyingClient;
    this.client.on('notification', this.onNotification);
    this.runner = runner;
    await runner.query(`LISTEN ${EVENTS_CHANNEL}`);
  }

  /** Resolves on the next notification (or one that arrived since the last wait), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.waiter === done) self.waiter = undefined;
        self.pending = false;
        resolve();
      }
      this.waiter = done;
    });
  }

  /** Wakes the current waiter now (used on stop, and by notifications). */
  wake(): void {
    if (this.waiter) this.waiter();
    else this.pending = true;
  }

  async stop(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    this.wake();
    if (!runner) return;
    this.client?.removeListener('notification', this.onNotification);
    await runner.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
    await runner.release();
  }
}
