import type { RecordedEvent } from '@reelay/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import { LOG_START, type LogCheckpoint } from '../log/log-checkpoint';
import { readAllAfter, type ReadAllResult } from '../log/read-all';
import { pgConstraint, pgErrorCode, type SqlExecutor } from '../sql/sql-executor';
import { ConcurrencyError, DuplicateEventError } from './errors';
import { prepareEvent, type PreparedEvent } from './prepare-event';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './recorded-event-row';
import type { AppendBatch, AppendOptions, AppendResult, ExpectedVersion, NewEvent } from './types';

interface PreparedBatch {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: PreparedEvent[];
}

/** Raised inside the write transaction; turned into a ConcurrencyError once the actual version is known. */
class StreamConflict extends Error {
  constructor(readonly streamId: string, readonly expected: ExpectedVersion) {
    super(`conflict on ${streamId}`);
  }
}

// Serialises writers per stream before the transaction writes anything (advisory locks assign no xid).
// Keys are taken in sorted order so multi-stream writers never deadlock each other.
const LOCK_STREAMS_SQL = `
  SELECT pg_advisory_xact_lock(k)
  FROM (SELECT DISTINCT hashtextextended(s, 0) AS k FROM unnest($1::text[]) AS s ORDER BY 1) AS keys`;

// One round trip for any number of streams and events: conditional stream updates/creations
// (the optimistic-concurrency guard) and a multi-row insert of the events, in input order.
const WRITE_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(stream_id text, expected int, next_version int)
  ), updated AS (
    UPDATE streams s SET version = i.next_version, updated_at = now()
    FROM input i
    WHERE i.expected > 0 AND s.stream_id = i.stream_id AND s.version = i.expected
    RETURNING s.stream_id
  ), created AS (
    INSERT INTO streams (stream_id, version)
    SELECT stream_id, next_version FROM input WHERE expected = 0
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING stream_id
  ), appended AS (
    INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
    SELECT e.stream_id, e.stream_version, e.event_id, e.type, e.schema_version, e.data, e.metadata
    FROM jsonb_to_recordset($2::jsonb)
      AS e(ord int, stream_id text, stream_version int, event_id uuid, type text, schema_version int, data jsonb, metadata jsonb)
    ORDER BY e.ord
    RETURNING event_id, global_position::text AS global_position, transaction_id::text AS transaction_id, recorded_at
  )
  SELECT a.*, (SELECT count(*) FROM updated) + (SELECT count(*) FROM created) AS streams_written
  FROM appended a`;

interface WrittenRow {
  event_id: string;
  global_position: string;
  transaction_id: string;
  recorded_at: Date | string;
  streams_written: string | number;
}

/** The append-only PostgreSQL event log: one stream per aggregate, optimistic concurrency per stream. */
export class EventStore {
  constructor(readonly dataSource: DataSource) {}

  /**
   * Appends events to one stream if it is at `expectedVersion` (0: must not exist; 'any': no check).
   * Every event is validated first; an unknown or malformed event throws and nothing is written.
   */
  async append(streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, expectedVersion, events }], opts);
    return result;
  }

  /**
   * Appends to several streams in ONE transaction, all or nothing: one stale expected version or
   * one bad event and no batch is written. Results come back in the order of `batches`.
   *
   * Writers of a stream are serialised by a transaction-scoped advisory lock taken before anything
   * is written (advisory locks assign no xid). So 'any' reads the version under the lock and never
   * fails spuriously, and a later writer of a stream is assigned its xid only after the earlier one
   * committed: the global log order (transaction_id, global_position) agrees with every stream's
   * version order, which readers of the log rely on. With `opts.tx` this holds only if the append is
   * the transaction's first write (an earlier write would have fixed an older xid).
   * Each stream holds one lock slot until commit: keep concurrent batches well within
   * max_locks_per_transaction × max_connections (6,400 with stock settings).
   */
  async appendMany(batches: AppendBatch[], opts: AppendOptions = {}): Promise<AppendResult[]> {
    const prepared = prepareBatches(batches);
    if (prepared.length === 0) return [];
    const runner = opts.tx ?? this.dataSource.createQueryRunner();
    const owned = !opts.tx;
    try {
      if (owned) await runner.connect();
      // Inside a caller's transaction this is a savepoint, so a conflict leaves their transaction usable.
      await runner.startTransaction();
      try {
        const results = await this.write(runner, prepared);
        await runner.commitTransaction();
        return results;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      if (err instanceof StreamConflict) {
        throw new ConcurrencyError(err.streamId, err.expected, await this.streamVersion(err.streamId));
      }
      throw err;
    } finally {
      if (owned) await runner.release();
    }
  }

  /** Events of one stream in version order, from `fromVersion` (inclusive). Sees its own commits at once. */
  async readStream(streamId: string, fromVersion = 1, opts: { tx?: SqlExecutor } = {}): Promise<RecordedEvent[]> {
    const rows: EventRow[] = await (opts.tx ?? this.dataSource).query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
      [streamId, fromVersion],
    );
    return rows.map(toRecordedEvent);
  }

  /** The stream's current version, 0 if it does not exist. */
  async streamVersion(streamId: string, opts: { tx?: SqlExecutor } = {}): Promise<number> {
    const rows: { version: number }[] = await (opts.tx ?? this.dataSource).query(`SELECT version FROM streams WHERE stream_id = $1`, [streamId]);
    return rows[0]?.version ?? 0;
  }

  /**
   * Committed events after `after` in global log order, at most `limit`. Never skips an event that
   * commits late (see read-all.ts): it can lag behind the newest commits, never lose one.
   */
  readAll(after: LogCheckpoint = LOG_START, limit = 1000, opts: { tx?: SqlExecutor } = {}): Promise<ReadAllResult> {
    return readAllAfter(opts.tx ?? this.dataSource, after, limit);
  }

  private async write(tx: QueryRunner, batches: PreparedBatch[]): Promise<AppendResult[]> {
    const streamIds = batches.map((b) => b.streamId);
    await tx.query(LOCK_STREAMS_SQL, [streamIds]);
    const rows: { stream_id: string; version: number }[] = await tx.query(
      `SELECT stream_id, version FROM streams WHERE stream_id = ANY($1::text[])`,
      [streamIds],
    );
    const current = new Map(rows.map((r) => [r.stream_id, r.version]));

    const streamWrites: { stream_id: string; expected: number; next_version: number }[] = [];
    const eventWrites: Record<string, unknown>[] = [];
    const plans = batches.map((batch) => {
      const actual = current.get(batch.streamId) ?? 0;
      if (batch.expectedVersion !== 'any' && batch.expectedVersion !== actual) throw new StreamConflict(batch.streamId, batch.expectedVersion);
      if (batch.events.length > 0) {
        streamWrites.push({ stream_id: batch.streamId, expected: actual, next_version: actual + batch.events.length });
        batch.events.forEach((e, i) =>
          eventWrites.push({
            ord: eventWrites.length,
            stream_id: batch.streamId,
            stream_version: actual + i + 1,
            event_id: e.eventId,
            type: e.type,
            schema_version: e.schemaVersion,
            data: e.data,
            metadata: e.metadata,
          }),
        );
      }
      return { batch, base: actual };
    });
    if (eventWrites.length === 0) return plans.map(({ base }) => ({ nextExpectedVersion: base, events: [] }));

    let written: WrittenRow[];
    try {
      written = await tx.query(WRITE_SQL, [JSON.stringify(streamWrites), JSON.stringify(eventWrites)]);
    } catch (err) {
      if (pgErrorCode(err) === '23505') {
        const constraint = pgConstraint(err);
        if (constraint === 'events_event_id_unique') throw new DuplicateEventError(String((err as { detail?: unknown }).detail ?? ''));
        if (constraint === 'events_stream_version_unique') throw conflictOnFirstWrite(batches);
      }
      throw err;
    }
    // Only reachable if something wrote to `streams` without taking the stream lock.
    if (written.length && Number(written[0].streams_written) !== streamWrites.length) {
      throw conflictOnFirstWrite(batches);
    }

    const byId = new Map(written.map((w) => [w.event_id, w]));
    return plans.map(({ batch, base }) => ({
      nextExpectedVersion: base + batch.events.length,
      events: batch.events.map((e, i) => {
        const w = byId.get(e.eventId)!;
        return {
          eventId: e.eventId,
          type: e.type,
          schemaVersion: e.schemaVersion,
          streamId: batch.streamId,
          streamVersion: base + i + 1,
          globalPosition: w.global_position,
          transactionId: w.transaction_id,
          data: e.data,
          metadata: e.metadata,
          recordedAt: new Date(w.recorded_at).toISOString(),
        };
      }),
    }));
  }
}

function conflictOnFirstWrite(batches: PreparedBatch[]): StreamConflict {
  const first = batches.find((b) => b.events.length > 0)!;
  return new StreamConflict(first.streamId, first.expectedVersion);
}

function prepareBatches(batches: AppendBatch[]): PreparedBatch[] {
  const seen = new Set<string>();
  return batches.map(({ streamId, expectedVersion, events }) => {
    if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
    if (seen.has(streamId)) throw new TypeError(`stream ${streamId} appears twice in one appendMany; merge its events into one batch`);
    seen.add(streamId);
    if (expectedVersion !== 'any' && !(Number.isInteger(expectedVersion) && expectedVersion >= 0)) {
      throw new TypeError(`expectedVersion must be a non-negative integer or 'any', got ${String(expectedVersion)}`);
    }
    return { streamId, expectedVersion, events: events.map(prepareEvent) };
  });
}
