import type { RecordedEvent } from '@reelay/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { compareCheckpoints, type LogCheckpoint } from '../log/log-checkpoint';
import { LogNotifier } from '../log/log-notifier';
import { inTransaction, type SqlExecutor } from '../sql/sql-executor';
import type { EventStore } from '../store/event-store';
import { TRY_LOCK_PROJECTION_SQL } from './projection-lock';
import { newestCommittedPosition, rebuildProjection } from './rebuild-projection';

export interface ProjectionRunnerOptions {
  /** Names the checkpoint and the lock; one active runner per name across all processes. */
  name: string;
  store: EventStore;
  dataSource: DataSource;
  /**
   * Applies a batch using `tx` only; it commits together with the checkpoint. Must not commit itself.
   * Best: read with `tx` and return the batch's write as one statement instead of running it; the
   * runner sends it together with the checkpoint save (see ProjectionWrite).
   */
  project: (events: RecordedEvent[], tx: QueryRunner) => Promise<ProjectionWrite | void>;
  batchSize?: number;
  /** Poll interval when idle (default 500 ms); a NOTIFY from the log wakes the runner sooner. */
  pollIntervalMs?: number;
  /**
   * Least time from one background catch-up to the next (default 0). A read model that may lag a
   * little then applies one batch per interval under load instead of one per commit: the batch's
   * fixed cost (lock, checkpoint, transaction) is shared by every event committed meanwhile.
   */
  minBatchIntervalMs?: number;
  /** LISTEN for `reelay_events` while started (default true). */
  listen?: boolean;
  /** Called with errors from the background loop (default: console.error); the loop retries after the poll interval. */
  onError?: (err: unknown) => void;
  /**
   * A catch-up (and so a rebuild) gives up with CatchUpStalledError once its checkpoint has not
   * moved for this long (default CATCH_UP_STALL_TIMEOUT_MS), e.g. behind a transaction left open.
   */
  catchUpStallTimeoutMs?: number;
}

/** Default of ProjectionRunnerOptions.catchUpStallTimeoutMs: five minutes without progress. */
export const CATCH_UP_STALL_TIMEOUT_MS = 300_000;
/** While a catch-up is stalled, it says what it waits for this often. */
const CATCH_UP_WAIT_REPORT_MS = 2_000;
/** A catch-up that has read everything it may read yet looks again after this long. */
const CATCH_UP_RETRY_MS = 100;

/** What a catch-up waits for while its checkpoint does not move. */
export interface CatchUpWait {
  /** The position the catch-up must reach: the log's last committed event when it began. */
  target: LogCheckpoint;
  /** The projection's checkpoint now. */
  reached: LogCheckpoint;
  /** How long the checkpoint has not moved. */
  stalledMs: number;
  /** In words: the open transaction the log cannot be read past, or the runner holding the lock. */
  waitingFor: string;
}

/**
 * Hears the running count of events the call applied, after each batch; and, every couple of
 * seconds while the checkpoint does not move, the same count with what it waits for.
 */
export type CatchUpProgress = (applied: number, waiting?: CatchUpWait) => void;

/** A catch-up gave up: its checkpoint did not move for the stall timeout. What it applied stays. */
export class CatchUpStalledError extends Error {
  constructor(
    readonly projection: string,
    readonly wait: CatchUpWait,
  ) {
    super(
      `${projection}: gave up after ${Math.round(wait.stalledMs / 1000)} s without progress, waiting for ${wait.waitingFor}; ` +
        `reached ${position(wait.reached)} of ${position(wait.target)}. It is not caught up yet: a running service's runner goes on from there by itself.`,
    );
    this.name = 'CatchUpStalledError';
  }
}

function position(c: LogCheckpoint): string {
  return `(transaction ${c.transactionId}, position ${c.globalPosition})`;
}

/*
 * Who holds the log's horizon back: the open transaction with the oldest id, anywhere on the server
 * (the horizon is cluster-wide), a prepared one included. Another user's session shows without its
 * query unless this role may read all statistics.
 */
const HORIZON_HOLDER_SQL = `
  SELECT * FROM (
    SELECT age(backend_xid) AS age, backend_xid::text AS xid, pid, state, usename AS who, datname AS db, application_name AS app, NULL AS gid,
           floor(extract(epoch FROM now() - xact_start))::int AS seconds, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 120) AS query
    FROM pg_stat_activity WHERE backend_xid IS NOT NULL
    UNION ALL
    SELECT age(transaction), transaction::text, NULL, 'prepared', owner, database, NULL, gid,
           floor(extract(epoch FROM now() - prepared))::int, NULL
    FROM pg_prepared_xacts
  ) open ORDER BY age DESC LIMIT 1`;

interface HorizonHolderRow {
  xid: string;
  pid: number | null;
  state: string | null;
  who: string | null;
  db: string | null;
  app: string | null;
  gid: string | null;
  seconds: number | null;
  query: string | null;
}

/** The open transaction that keeps log readers from reading further, in words. */
export async function describeHorizonHolder(db: SqlExecutor): Promise<string> {
  const [t] = (await db.query(HORIZON_HOLDER_SQL)) as HorizonHolderRow[];
  const why = 'the log is read only up to the oldest transaction still open that wrote something';
  if (!t) return `the oldest open transaction to end (none visible here; ${why})`;
  const where = [t.who && `user ${t.who}`, t.db && `database ${t.db}`].filter(Boolean).join(', ');
  if (t.gid !== null) return `prepared transaction ${t.xid} ("${t.gid}", ${where}, prepared ${t.seconds ?? '?'} s ago) to be committed or rolled back (${why})`;
  const what = [`pid ${t.pid}`, t.app && `application "${t.app}"`, where, t.state && `${t.state} for ${t.seconds ?? '?'} s`, t.query && `last statement: ${t.query}`].filter(Boolean).join(', ');
  return `transaction ${t.xid} (${what}) to end (${why})`;
}

/**
 * A projection batch's write (one INSERT/UPDATE/DELETE, parameters $1..$n), run by the runner in
 * the same statement as the checkpoint save. Why: from a transaction's first write to its commit it
 * holds an xid, and every log reader (the relay first) waits for the oldest such transaction before
 * it may read further (read-all.ts). Write, checkpoint save and COMMIT as three round trips kept the
 * relay waiting for two of them on every batch; as one statement plus COMMIT, for one.
 */
export interface ProjectionWrite {
  sql: string;
  params: unknown[];
}

export interface BatchOutcome {
  processed: number;
  /** False when another runner held this projection's lock, so nothing was attempted. */
  locked: boolean;
  /** With the lock: the projection's checkpoint after the batch. */
  checkpoint?: LogCheckpoint;
}

/**
 * Keeps a read model current from the log, effectively-once: each batch is read, applied and its
 * checkpoint saved in ONE transaction, so a crash anywhere rolls back both the writes and the checkpoint.
 *
 * Single active runner: each batch transaction first takes `pg_try_advisory_xact_lock(name)` and
 * reads the checkpoint only after holding it. We chose the transaction-scoped lock over a session
 * lock because (a) it needs no connection pinned for the runner's lifetime, (b) it is released by
 * commit, rollback or a dropped connection with no unlock path to get wrong, and (c) a session lock
 * silently disappears when its connection is recycled, while the owner keeps believing it holds it.
 * The price is that leadership is per batch: two runners may take turns, but never overlap, and each
 * batch starts from the checkpoint its predecessor committed, so nothing is applied twice.
 * (Emmett does the same with `pg_try_advisory_xact_lock` per batch; Marten's HotCold mode defaults to
 * transaction-scoped advisory locks.)
 */
export class ProjectionRunner {
  readonly name: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly minBatchIntervalMs: number;
  private readonly checkpoints: CheckpointStore;
  private readonly listen: boolean;
  // Also the wakeable sleep between polls when not listening.
  private readonly notifier: LogNotifier;
  private readonly stallTimeoutMs: number;
  private loop?: Promise<void>;
  private stopping = false;

  constructor(private readonly opts: ProjectionRunnerOptions) {
    this.name = opts.name;
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.minBatchIntervalMs = opts.minBatchIntervalMs ?? 0;
    this.checkpoints = new CheckpointStore(opts.dataSource);
    this.listen = opts.listen ?? true;
    this.stallTimeoutMs = opts.catchUpStallTimeoutMs ?? CATCH_UP_STALL_TIMEOUT_MS;
    this.notifier = new LogNotifier(opts.dataSource);
  }

  /** Applies at most one batch. */
  runBatch(): Promise<BatchOutcome> {
    return inTransaction(this.opts.dataSource, async (tx) => {
      const [{ locked }] = await tx.query(TRY_LOCK_PROJECTION_SQL, [this.name]);
      if (!locked) return { processed: 0, locked: false };
      const from = await this.checkpoints.get(this.name, tx);
      const { events, checkpoint } = await this.opts.store.readAll(from, this.batchSize, { tx });
      if (events.length === 0) return { processed: 0, locked: true, checkpoint: from };
      const write = await this.opts.project(events, tx);
      await this.checkpoints.save(this.name, checkpoint, tx, write ?? undefined);
      return { processed: events.length, locked: true, checkpoint };
    });
  }

  /** Processes everything readable now; resolves with the count once caught up (or if another runner holds the lock). */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const { processed, locked } = await this.runBatch();
      total += processed;
      if (!locked || processed < this.batchSize || this.stopping) return total;
    }
  }

  /** Starts tailing the log in the background. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    if (this.listen) await this.notifier.start();
    this.loop = this.run();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.notifier.wake();
    await this.loop;
    this.loop = undefined;
    await this.notifier.stop();
  }

  /**
   * Brings the projection up to the log's last committed event as of the call (whoever applies the
   * batches: a batch that finds another runner holding the lock waits its turn), resolving with the
   * count this call applied. A short batch is not the end: the log is read only up to the oldest
   * transaction still open that wrote something (read-all.ts), so events committed before the call
   * may not be readable yet; it then looks again every 100 ms. `onProgress` hears the running count
   * after each batch, and what it waits for every 2 s while the checkpoint does not move; after
   * `catchUpStallTimeoutMs` without progress it rejects with CatchUpStalledError.
   */
  async catchUp(onProgress?: CatchUpProgress): Promise<number> {
    return this.catchUpTo(await newestCommittedPosition(this.opts.dataSource), onProgress);
  }

  /**
   * Empties the read model (`truncateSql`), resets the checkpoint and replays the log into it,
   * resolving once it has caught up with the log's end as of the reset (a running service's runner
   * may apply some of the batches). Until then the read model is marked as being rebuilt
   * (PROJECTION_REBUILDING_SQL), also if this call gives up or its process stops.
   */
  async rebuild(truncateSql: string[], onProgress?: CatchUpProgress): Promise<number> {
    const end = await rebuildProjection(this.opts.dataSource, this.name, ...truncateSql);
    return this.catchUpTo(end, onProgress);
  }

  private async catchUpTo(target: LogCheckpoint, onProgress?: CatchUpProgress): Promise<number> {
    let total = 0;
    let reached: LogCheckpoint | undefined;
    let movedAt = Date.now();
    let reportedAt = movedAt;
    for (;;) {
      const { processed, checkpoint } = await this.runBatch();
      total += processed;
      if (processed) onProgress?.(total);
      // Without the lock: where the runner holding it has got to.
      const at = checkpoint ?? (await this.checkpoints.get(this.name));
      if (compareCheckpoints(at, target) >= 0 || this.stopping) return total;
      if (!reached || compareCheckpoints(at, reached) !== 0) [reached, movedAt] = [at, Date.now()];
      if (processed === this.batchSize) continue;
      const now = Date.now();
      const stalled = now - movedAt >= this.stallTimeoutMs;
      if (stalled || (onProgress && now - Math.max(movedAt, reportedAt) >= CATCH_UP_WAIT_REPORT_MS)) {
        const waitingFor = checkpoint ? await describeHorizonHolder(this.opts.dataSource) : `another runner of ${this.name}, which holds its lock, to apply or release it`;
        const wait: CatchUpWait = { target, reached: at, stalledMs: now - movedAt, waitingFor };
        if (stalled) throw new CatchUpStalledError(this.name, wait);
        reportedAt = now;
        onProgress?.(total, wait);
      }
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_RETRY_MS));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const started = Date.now();
      try {
        await this.runOnce();
      } catch (err) {
        (this.opts.onError ?? ((e) => console.error(`projection ${this.name} failed`, e)))(err);
      }
      if (this.stopping) break;
      await this.notifier.wait(this.pollIntervalMs);
      const rest = this.minBatchIntervalMs - (Date.now() - started);
      if (rest > 0 && !this.stopping) await new Promise((r) => setTimeout(r, rest));
    }
  }
}
