import type { RecordedEvent } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { LOG_START, type LogCheckpoint } from '../log/log-checkpoint';
import { readAllAfter, readLastUpTo, type ReadAllResult } from '../log/read-all';
import { isServerError, pgConstraint, pgErrorCode, type SqlExecutor } from '../sql/sql-executor';
import { WriteBatcher } from '../sql/write-batcher';
import { StreamSnapshotStore } from '../snapshots/stream-snapshot-store';
import { StreamStateCache } from '../state-cache/stream-state-cache';
import { ConcurrencyError, DuplicateEventError } from './errors';
import { isEventId, prepareEvent, type PreparedEvent } from './prepare-event';
import { eventColumns, toRecordedEvent, type EventRow } from './recorded-event-row';
import type { AppendBatch, AppendOptions, AppendResult, ExpectedVersion, NewEvent } from './types';

interface PreparedBatch {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: PreparedEvent[];
}

/** One atomic append as `reelay_append` takes it. */
interface AppendPayload {
  streams: { stream_id: string; expected: number }[];
  events: { ord: number; stream_id: string; idx: number; event_id: string; type: string; schema_version: number; data: unknown; metadata: unknown }[];
}

interface StreamRead {
  streamId: string;
  fromVersion: number;
}

interface AppendOutcome {
  conflict?: { stream_id: string; expected: number; actual: number };
  base?: Record<string, number>;
  events?: { event_id: string; global_position: string; transaction_id: string; recorded_at: string }[];
}

/** The append-only PostgreSQL event log: one stream per aggregate, optimistic concurrency per stream. */
export class EventStore {
  /** Folded states of streams this process handled (see loadStreamState). */
  readonly states: StreamStateCache;
  /** Saved states of long streams, for folds that ask for them (see loadStreamState). */
  readonly snapshots: StreamSnapshotStore;
  /**
   * Appends and stream reads made outside a transaction go through these: what callers ask for
   * during one round trip is sent as one statement (group commit), one at a time per process.
   * A group commit the server refused committed nothing, so its groups are retried one by one and
   * only the faulty one fails. After a lost connection the commit may have happened, and a retry
   * would turn that into a duplicate-event or concurrency error: every caller gets that error.
   */
  private readonly appends = new WriteBatcher(
    (payloads: AppendPayload[]) => this.appendGroups(payloads),
    200,
    isServerError,
    // Two appends to one stream in a group commit would make it run its groups one by one (see
    // AppendGroupsInOnePass1764300000005): the later one goes in the next commit instead.
    (payload) => payload.streams.map((s) => s.stream_id),
  );
  private readonly reads = new WriteBatcher((reads: StreamRead[]) => this.readStreamsFrom(reads), 500);

  constructor(
    readonly dataSource: DataSource,
    opts: { stateCacheSize?: number } = {},
  ) {
    this.states = new StreamStateCache(opts.stateCacheSize);
    this.snapshots = new StreamSnapshotStore(dataSource);
  }

  /**
   * Appends events to one stream if it is at `expectedVersion` (0: must not exist; 'any': no check).
   * Every event is validated first; an unknown or malformed event throws and nothing is written.
   */
  async append(streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, expectedVersion, events }], opts);
    return result;
  }

  /**
   * Appends to several streams atomically, all or nothing: one stale expected version or one bad
   * event and no batch is written. Results come back in the order of `batches`. One round trip:
   * validation happens here, then the `reelay_append` function (see its migration for the locking
   * and ordering rationale) checks versions and writes every stream and event in one statement.
   *
   * Writers of a stream are serialised by a transaction-scoped advisory lock taken before anything
   * is written, so the global log order agrees with each stream's version order and 'any' never
   * conflicts. With `opts.tx` that ordering holds only if the append is the transaction's first
   * write (an earlier write fixes an older xid). A ConcurrencyError leaves the caller's transaction
   * usable (nothing was written); a DuplicateEventError or database error aborts it.
   * Each stream holds one lock slot until commit: keep concurrent batches well within
   * max_locks_per_transaction × max_connections (6,400 with stock settings).
   */
  async appendMany(batches: AppendBatch[], opts: AppendOptions = {}): Promise<AppendResult[]> {
    const prepared = prepareBatches(batches);
    if (prepared.length === 0) return [];
    const streams = prepared.map((b) => ({ stream_id: b.streamId, expected: b.expectedVersion === 'any' ? -1 : b.expectedVersion }));
    let ord = 0;
    const events = prepared.flatMap((b) =>
      b.events.map((e, idx) => ({
        ord: ord++,
        stream_id: b.streamId,
        idx,
        event_id: e.eventId,
        type: e.type,
        schema_version: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
      })),
    );

    let outcome: AppendOutcome;
    try {
      // Inside the caller's transaction: one statement of it. Otherwise one group of a group commit.
      outcome = opts.tx ? (await this.appendGroups([{ streams, events }], opts.tx))[0] : await this.appends.submit({ streams, events });
    } catch (err) {
      if (pgErrorCode(err) === '23505' && pgConstraint(err) === 'events_event_id_unique') {
        throw new DuplicateEventError(String((err as { detail?: unknown }).detail ?? ''));
      }
      throw err;
    }
    if (outcome.conflict) {
      const { stream_id, actual } = outcome.conflict;
      throw new ConcurrencyError(stream_id, prepared.find((b) => b.streamId === stream_id)!.expectedVersion, actual);
    }

    const written = new Map(outcome.events!.map((w) => [w.event_id, w]));
    return prepared.map((batch) => {
      const base = outcome.base![batch.streamId];
      return {
        nextExpectedVersion: base + batch.events.length,
        events: batch.events.map((e, i): RecordedEvent => {
          const w = written.get(e.eventId)!;
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
      };
    });
  }

  /**
   * One statement for all `payloads` (autocommit, or in `tx`): `reelay_append` for one, else
   * `reelay_append_groups`; see their migrations for the locking and ordering rationale.
   */
  private async appendGroups(payloads: AppendPayload[], tx?: SqlExecutor): Promise<AppendOutcome[]> {
    const db = tx ?? this.dataSource;
    if (payloads.length === 1) {
      const rows: { r: AppendOutcome }[] = await db.query(`SELECT reelay_append($1::jsonb, $2::jsonb) AS r`, [
        JSON.stringify(payloads[0].streams),
        JSON.stringify(payloads[0].events),
      ]);
      return [rows[0].r];
    }
    const rows: { r: AppendOutcome[] }[] = await db.query(`SELECT reelay_append_groups($1::jsonb) AS r`, [JSON.stringify(payloads)]);
    return rows[0].r;
  }

  /**
   * Events of one stream in version order, from `fromVersion` (inclusive). Sees its own commits at
   * once. Outside a transaction, reads made at the same time share one statement.
   */
  async readStream(streamId: string, fromVersion = 1, opts: { tx?: SqlExecutor } = {}): Promise<RecordedEvent[]> {
    const read = { streamId, fromVersion };
    return opts.tx ? (await this.readStreamsFrom([read], opts.tx))[0] : this.reads.submit(read);
  }

  /**
   * The tails of several streams in one statement, answered in the order of `reads`. Each stream is
   * read through the (stream_id, stream_version) index: `OFFSET 0` keeps the lateral subquery from
   * being merged into a join, which for a few dozen streams and a log of tens of thousands of events
   * the planner ran as a sequential scan of the whole log.
   */
  private async readStreamsFrom(reads: StreamRead[], tx?: SqlExecutor): Promise<RecordedEvent[][]> {
    const rows: (EventRow & { q: number })[] = await (tx ?? this.dataSource).query(
      `SELECT q.ord AS q, ${eventColumns('e')}
         FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS q(stream_id, from_version, ord)
        CROSS JOIN LATERAL (SELECT * FROM events WHERE stream_id = q.stream_id AND stream_version >= q.from_version OFFSET 0) e
        ORDER BY q.ord, e.stream_version`,
      [reads.map((r) => r.streamId), reads.map((r) => r.fromVersion)],
    );
    const out: RecordedEvent[][] = reads.map(() => []);
    for (const row of rows) out[Number(row.q) - 1].push(toRecordedEvent(row));
    return out;
  }

  /**
   * Several streams in one round trip, each in version order (streams without events are absent).
   * For consumers that handle a batch of events across many streams, e.g. a projection.
   */
  async readStreams(streamIds: readonly string[], opts: { tx?: SqlExecutor } = {}): Promise<Map<string, RecordedEvent[]>> {
    const ids = [...new Set(streamIds)];
    if (ids.length === 0) return new Map();
    const tails = await this.readStreamsFrom(ids.map((streamId) => ({ streamId, fromVersion: 1 })), opts.tx);
    return new Map(ids.flatMap((id, i) => (tails[i].length ? [[id, tails[i]] as const] : [])));
  }

  /** The log position of an event, or null when the log has no such event. */
  async positionOf(eventId: string): Promise<LogCheckpoint | null> {
    // An id that is no UUID names no event (and PostgreSQL would refuse to compare it with one).
    if (!isEventId(eventId)) return null;
    const [row]: { t: string; p: string }[] = await this.dataSource.query(
      `SELECT transaction_id::text AS t, global_position::text AS p FROM events WHERE event_id = $1`,
      [eventId],
    );
    return row ? { transactionId: row.t, globalPosition: row.p } : null;
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

  /** The last `limit` committed events after `after` and up to `upTo` (inclusive), in log order. */
  readLastUpTo(after: LogCheckpoint, upTo: LogCheckpoint, limit: number): Promise<RecordedEvent[]> {
    return readLastUpTo(this.dataSource, after, upTo, limit);
  }
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
