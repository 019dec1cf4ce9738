import type { RecordedEvent } from '@reelay/contracts';
import type { SqlExecutor } from '../sql/sql-executor';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from '../store/recorded-event-row';
import type { LogCheckpoint } from './log-checkpoint';

export interface ReadAllResult {
  events: RecordedEvent[];
  /** Where to continue from: the last returned event, or `after` unchanged when nothing was returned. */
  checkpoint: LogCheckpoint;
}

/*
 * Why not simply `WHERE global_position > $last`:
 * an identity/sequence value is taken at INSERT but becomes visible only at COMMIT. Writer A can take
 * position 1 and commit after writer B took position 2 and committed; a reader that saw 2 and moved
 * its checkpoint past it would never see 1. Rolled-back inserts also leave holes that never fill.
 *
 * What we do (Emmett's approach, see event-driven-io/emmett `readMessagesBatch.ts` and Oskar Dudycz,
 * "How Postgres sequences issues can impact your messaging guarantees", event-driven.io, 2022):
 * every row stores the writing transaction's id (`pg_current_xact_id()`, xid8), and the reader only
 * returns rows whose transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`, the oldest
 * transaction still running anywhere in the cluster that has an id (one that has written something;
 * a read-only transaction gets none). Every transaction below that horizon has
 * finished, so no row can ever appear again behind the checkpoint. Rows are ordered and keyset-paged
 * by (transaction_id, global_position), which is stable once below the horizon.
 *
 * Alternatives considered: Marten's high-water mark (advance only over contiguous sequence numbers,
 * skip a gap after proving no live transaction can fill it; JasperFx/marten HighWater/*) and Axon's
 * GapAwareTrackingToken (remember missing indexes, give up on them after a timeout). Both need gap
 * bookkeeping and the timeout variants trade correctness for liveness; this needs one predicate and
 * no timeout. Its cost: a long-running or idle-in-transaction session anywhere on the cluster that
 * has written something holds the horizon back and delays (never breaks) every reader, hence `idle_in_transaction_session_timeout`
 * on our pools. Requires PostgreSQL 13+ (xid8, pg_current_snapshot).
 */
const READ_ALL_SQL = `
  SELECT ${EVENT_COLUMNS}
  FROM events
  WHERE (events.transaction_id, events.global_position) > ($1::xid8, $2::bigint)
    AND events.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  -- Qualified: the bare names would sort by the ::text output aliases ('10' < '9').
  ORDER BY events.transaction_id, events.global_position
  LIMIT $3`;

/**
 * Reads committed events after `after`, in log order, never skipping one that commits late.
 * Run it as its own statement (autocommit or READ COMMITTED): the horizon is taken per statement.
 */
export async function readAllAfter(db: SqlExecutor, after: LogCheckpoint, limit: number): Promise<ReadAllResult> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const rows: EventRow[] = await db.query(READ_ALL_SQL, [after.transactionId, after.globalPosition, limit]);
  const events = rows.map(toRecordedEvent);
  const last = events.at(-1);
  return {
    events,
    checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : { ...after },
  };
}

const READ_LAST_SQL = `
  SELECT ${EVENT_COLUMNS}
  FROM events
  WHERE (events.transaction_id, events.global_position) > ($1::xid8, $2::bigint)
    AND (events.transaction_id, events.global_position) <= ($3::xid8, $4::bigint)
    AND events.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY events.transaction_id DESC, events.global_position DESC
  LIMIT $5`;

/** The last `limit` committed events after `after` and up to `upTo` (inclusive), in log order. */
export async function readLastUpTo(db: SqlExecutor, after: LogCheckpoint, upTo: LogCheckpoint, limit: number): Promise<RecordedEvent[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const rows: EventRow[] = await db.query(READ_LAST_SQL, [after.transactionId, after.globalPosition, upTo.transactionId, upTo.globalPosition, limit]);
  return rows.map(toRecordedEvent).reverse();
}
