import { returnedRows } from '@reelay/event-store';
import { Ticker, type Logger } from '@reelay/service-kit';
import type { DataSource } from 'typeorm';

/** Rows one statement forgets at most: a short lock, and the next round goes on at once. */
const BATCH = 1000;
const SWEEP_EVERY_MS = 10 * 60_000;
const DAY_MS = 24 * 3_600_000;
/** Room for the clocks of PostgreSQL (the sweep's and the log's) and of this process to differ. */
const CLOCK_MARGIN_MS = 3_600_000;

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

  constructor(
    db: Pick<DataSource, 'query'>,
    private readonly days: number,
    logger: Pick<Logger, 'info' | 'warn'>,
  ) {
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

  /**
   * Whether a notice made by an event recorded at `recordedAt` may have been delivered and forgotten
   * already: a delivery ends no sooner than its event was recorded, so one forgotten now has an event
   * older than the history keeps. Such a notice is not recorded again, or a job's month-old webhooks
   * would be sent anew whenever its stream is folded from the start (a new event of an old job).
   */
  mayHaveForgotten(recordedAt: string, now: number): boolean {
    return this.days > 0 && Date.parse(recordedAt) < now - this.days * DAY_MS + CLOCK_MARGIN_MS;
  }

  start(): void {
    this.ticker.start();
  }

  stop(): Promise<void> {
    return this.ticker.stop();
  }
}
