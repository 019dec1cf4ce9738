import { logReaderLag, type ReaderLag, type SqlExecutor } from '@reelay/event-store';
import { Gauge } from 'prom-client';
import type { Metrics } from './registry';
import { scrapeRead } from './scrape-read';

/**
 * `reelay_log_unread_events` and `reelay_log_oldest_unread_seconds` for the named log readers (the
 * outbox relay, a projection), read from PostgreSQL at each scrape: a reader that stopped shows
 * here, whichever replica was meant to run it. One query serves both gauges of a scrape; a failed
 * or slow query leaves the last values (the scrape itself still answers).
 */
export function logReaderGauges(metrics: Metrics, db: SqlExecutor, readers: readonly string[]): void {
  let pending: { at: number; lag: Promise<ReaderLag[] | null> } | null = null;
  const lag = () => {
    if (!pending || Date.now() - pending.at > 500) pending = { at: Date.now(), lag: scrapeRead(() => logReaderLag(db, readers)) };
    return pending.lag;
  };
  const gauge = (name: string, help: string, value: (l: ReaderLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['reader'],
      registers: [metrics.registry],
      async collect() {
        const rows = await lag();
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ reader: row.reader }, value(row));
      },
    });
  gauge('reelay_log_unread_events', 'Events in the log a reader (relay, projection) has not read yet (counted up to 100,000)', (l) => l.unread);
  gauge('reelay_log_oldest_unread_seconds', 'Age of the oldest event a reader (relay, projection) has not read yet; 0 when it is caught up', (l) => l.oldestSeconds);
}

/** `reelay_dead_letters_open{consumer}`: dead letters not replayed yet, read at each scrape (the counter `reelay_dead_letters_total` only ever grows). */
export function openDeadLettersGauge(metrics: Metrics, db: SqlExecutor): void {
  new Gauge({
    name: 'reelay_dead_letters_open',
    help: 'Dead letters not replayed yet, by consumer (reelay dead-letters list / replay)',
    labelNames: ['consumer'],
    registers: [metrics.registry],
    async collect() {
      const rows: { consumer: string; n: number }[] | null = await scrapeRead(() =>
        db.query(`SELECT consumer, count(*) FILTER (WHERE replayed_at IS NULL)::int AS n FROM dead_letters GROUP BY consumer`),
      );
      if (!rows) return;
      // A consumer whose letters are all gone (the table pruned) leaves no series behind.
      this.reset();
      for (const row of rows) this.set({ consumer: row.consumer }, row.n);
    },
  });
}
