import { returnedRows } from '@reelay/event-store';
import { Ticker, type Logger } from '@reelay/service-kit';
import type { DataSource } from 'typeorm';

/** Rows one statement forgets at most: a short lock, and the next round goes on at once. */
const BATCH = 1000;
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Forgets webhook deliveries that ended (delivered, or given up) more than `days` ago, with their
 * attempts. Each row keeps the whole job as it was sent (prompt, metadata, the webhook URL and any
 * token in it), so keeping them for ever would keep what a user deleted, and grow without end.
 * Pending rows are never touched. Replicas may sweep at once: SKIP LOCKED leaves them disjoint rows.
 */
export async function forgetSettledDeliveries(db: Pick<DataSource, 'query'>, days: number, limit = BATCH): Promise<number> {
  const result: unknown = await db.query(
    `WITH old AS (
       SELECT job_id, version FROM webhook_deliveries
        WHERE status <> 'pending' AND updated_at < now() - make_interval(days => $1::int)
        ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), attempts_gone AS (
       DELETE FROM webhook_attempts a USING old WHERE a.job_id = old.job_id AND a.version = old.version
     )
     DELETE FROM webhook_deliveries d USING old WHERE d.job_id = old.job_id AND d.version = old.version RETURNING 1`,
    [days, limit],
  );
  return returnedRows(result).length;
}

/** Runs the sweep every ten minutes while the service is up (`days` 0: history is kept). */
export class WebhookHistorySweep {
  private readonly ticker: Ticker;

  constructor(db: Pick<DataSource, 'query'>, days: number, logger: Pick<Logger, 'info' | 'warn'>) {
    this.ticker = new Ticker({
      round: async () => {
        if (days <= 0) return false;
        const forgotten = await forgetSettledDeliveries(db, days);
        if (forgotten) logger.info({ forgotten, days }, 'forgot webhook deliveries that ended longer ago than WEBHOOK_HISTORY_DAYS');
        return forgotten === BATCH;
      },
      intervalMs: SWEEP_EVERY_MS,
      onError: (err) => logger.warn({ err: (err as Error).message }, 'webhook history sweep failed; trying again later'),
    });
  }

  start(): void {
    this.ticker.start();
  }

  stop(): Promise<void> {
    return this.ticker.stop();
  }
}
