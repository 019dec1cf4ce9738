import type { SqlExecutor } from '../sql/sql-executor';

export interface ReaderLag {
  /** The checkpoint's name (`relay`, a projection). */
  reader: string;
  /** Events in the log after its checkpoint, counted up to `cap`. */
  unread: number;
  /** Age of the first of them, in seconds; 0 when it has read everything. */
  oldestSeconds: number;
}

/**
 * How far each named log reader is behind: what an operator needs to see a relay or a projection
 * that stopped moving (its consumers then simply see nothing to do). Counts stop at `cap` so a reader
 * far behind costs a bounded index scan. Events above the transaction horizon count too: they are
 * committed, and a reader waits for them all the same.
 */
export async function logReaderLag(db: SqlExecutor, readers: readonly string[], cap = 100_000): Promise<ReaderLag[]> {
  const rows: { reader: string; unread: string; oldest: string | null }[] = await db.query(
    `SELECT r.reader,
       (SELECT count(*) FROM (SELECT 1 FROM events e
          WHERE (e.transaction_id, e.global_position) > (COALESCE(c.transaction_id, '0'::xid8), COALESCE(c.global_position, 0))
          LIMIT $2) page) AS unread,
       (SELECT extract(epoch FROM now() - e.recorded_at) FROM events e
          WHERE (e.transaction_id, e.global_position) > (COALESCE(c.transaction_id, '0'::xid8), COALESCE(c.global_position, 0))
          ORDER BY e.transaction_id, e.global_position LIMIT 1) AS oldest
     FROM unnest($1::text[]) AS r(reader) LEFT JOIN checkpoints c ON c.name = r.reader`,
    [readers, cap],
  );
  return rows.map((r) => ({ reader: r.reader, unread: Number(r.unread), oldestSeconds: Math.max(0, Number(r.oldest ?? 0)) }));
}
