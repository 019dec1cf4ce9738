import type { RecordedEvent } from '@reelay/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { LogNotifier } from '../log/log-notifier';
import { inTransaction } from '../sql/sql-executor';
import type { EventStore } from '../store/event-store';
import { TRY_LOCK_PROJECTION_SQL } from './projection-lock';
import { rebuildProjection } from './rebuild-projection';

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
  private loop?: Promise<void>;
  private stopping = false;

  constructor(private readonly opts: ProjectionRunnerOptions) {
    this.name = opts.name;
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.minBatchIntervalMs = opts.minBatchIntervalMs ?? 0;
    this.checkpoints = new CheckpointStore(opts.dataSource);
    this.listen = opts.listen ?? true;
    this.notifier = new LogNotifier(opts.dataSource);
  }

  /** Applies at most one batch. */
  runBatch(): Promise<BatchOutcome> {
    return inTransaction(this.opts.dataSource, async (tx) => {
      const [{ locked }] = await tx.query(TRY_LOCK_PROJECTION_SQL, [this.name]);
      if (!locked) return { processed: 0, locked: false };
      const from = await this.checkpoints.get(this.name, tx);
      const { events, checkpoint } = await this.opts.store.readAll(from, this.batchSize, { tx });
      if (events.length === 0) return { processed: 0, locked: true };
      const write = await this.opts.project(events, tx);
      await this.checkpoints.save(this.name, checkpoint, tx, write ?? undefined);
      return { processed: events.length, locked: true };
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
   * Like `runOnce`, but a batch that finds another runner holding the lock waits its turn instead of
   * returning: it resolves only once the projection (whoever applied it) has reached the log as it
   * was, with the count this call applied. `onBatch` hears the running count after each batch.
   */
  async catchUp(onBatch?: (applied: number) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const { processed, locked } = await this.runBatch();
      if (!locked) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      total += processed;
      if (processed) onBatch?.(total);
      if (processed < this.batchSize || this.stopping) return total;
    }
  }

  /**
   * Empties the read model (`truncateSql`), resets the checkpoint and replays the whole log into it,
   * resolving once it is caught up (a running service's runner may apply some of the batches).
   */
  async rebuild(truncateSql: string[], onBatch?: (applied: number) => void): Promise<number> {
    await rebuildProjection(this.opts.dataSource, this.name, ...truncateSql);
    return this.catchUp(onBatch);
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
