import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RecordedEvent } from '@reelay/contracts';
import { CheckpointStore, compareCheckpoints, EVENTS_CHANNEL, EventStore, LOG_START, type LogCheckpoint, type SqlExecutor } from '@reelay/event-store';
import type { DataSource } from 'typeorm';
import { PubAckInbox } from '../nats/pub-ack-inbox';
import { eventStreamName, eventSubject } from '../nats/subjects';
import { ensureEventStream, type TopologyOptions } from '../nats/topology';
import { traceHeaders } from '../tracing/trace-context';
import { LeaderCandidate, type LeaderLock } from './leader-lock';
import { lastPublishedEventId, storedAmongNewest } from './published-tail';

/*
 * Why this publishes each committed event to JetStream exactly once, in log order
 * ------------------------------------------------------------------------------
 * The PostgreSQL log is the outbox (transactional outbox, microservices.io/patterns/data/
 * transactional-outbox.html; "polling publisher" variant). The relay:
 *
 * 1. Reads committed events after its checkpoint with `EventStore.readAll`, which returns them in
 *    log order (transaction id, global position) and never skips an event that commits late.
 * 2. Publishes a batch pipelined on one connection, each with `Nats-Msg-Id` = event id, then awaits
 *    every PubAck (all on one reply subscription, PubAckInbox), then saves the checkpoint. NATS
 *    preserves the order of messages from one connection and a stream stores them in arrival
 *    order, so the stream receives the batch in log order without a round trip per event. The
 *    save (one statement) runs while the next batch is read and published. It is a writing
 *    transaction, so until it commits the reader's horizon stays below its transaction id: events
 *    committed after it started wait for the save (one round trip), those before it do not. Saves run one at a time and in order (each waits for the one before); a crash can
 *    therefore leave the checkpoint up to two batches behind what was published, which (3) covers.
 * 3. A crash after publishing but before saving the checkpoint makes the next relay re-publish
 *    from the old checkpoint. JetStream drops a message whose `Nats-Msg-Id` it stored within the
 *    stream's `duplicate_window` (docs.nats.io "JetStream Model Deep Dive", Message Deduplication;
 *    default 2 min, `StreamDefaultDuplicatesWindow` in nats-server/server/stream.go). So the window
 *    must exceed the longest time from a publish to the checkpoint save covering it plus the time a
 *    successor needs to take over. As a second guard that does not depend on the window, a relay
 *    taking over reads the stream's newest relayed message id and, when that event lies past the
 *    saved checkpoint, starts after it: the stream already holds that prefix (however many batches
 *    the checkpoint lags), except for a hole that (4) fills first.
 * 4. Order is kept even when two publishers overlap (e.g. a partitioned old leader finishing its
 *    batch while the new one starts): each publishes a contiguous run in log order, the stream keeps
 *    the first copy of each id, and the first copy of event n always arrives before the first copy
 *    of event n+1 (both publishers send n before n+1). Known edge: if the server rejected one message
 *    of a pipelined batch but accepted a later one (a connection lost mid-batch, a stream leader
 *    change), the retry appends the rejected event after its successor. The leader sends a failed
 *    batch again until it is stored whole (publishUntilStored). A leader that dies before that
 *    leaves a stream whose tail lies past a hole, so the skip in (3) alone would lose the event:
 *    a relay taking over therefore first checks that the stream holds each of the last two batches'
 *    worth of events up to its tail (read newest first; a leader sends one batch at a time and
 *    goes on only once it is stored whole, so a hole can only lie in the last batch before the
 *    tail) and publishes the ones it lacks before going on after the tail. That filled event then
 *    is the stream's newest message though it lies before the real tail in log order: a successor
 *    of a leader that died right after filling it goes on after it, re-sending the stretch up to the
 *    real tail. Those are duplicates (dropped within the window, delivered twice past it), never a
 *    loss; handlers take redeliveries anyway.
 *
 * Only one relay works at a time: leadership is a PostgreSQL session-level advisory lock
 * (postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS, `pg_try_advisory_lock`). The
 * lock belongs to a dedicated session, so a holder that dies (kill -9, lost node) releases it when
 * its backend exits; standbys retry every `lockRetryMs` and take over. The leader saves each
 * checkpoint through the lock's own session, so the save succeeds only while that session, and
 * with it the lock, is alive: a leader that lost its session never moves the checkpoint, and
 * whatever it published meanwhile is a duplicate that (3) drops. The session has a statement
 * timeout (`lockStatementTimeoutMs`): a save blocked on the server fails, the next batch ends the
 * leadership, and ending the session frees the lock for a standby.
 * The lock session also LISTENs on `reelay_events` (NOTIFY from the event store at commit); polling
 * every `pollIntervalMs` remains the fallback for a missed notification.
 *
 * An empty read right after a notification (or after a full batch) usually means the new events sit
 * behind the horizon: some other transaction that holds an xid is still running (a projection batch,
 * another append's commit). Its end sends no NOTIFY when it wrote no event, so waiting the full poll
 * interval would add up to `pollIntervalMs` to every transition queued behind it. Instead the relay
 * re-reads after 1, 2, 4... ms (doubling up to `pollIntervalMs`) until it gets events again; an idle
 * relay reaches the poll interval after about eight cheap reads.
 */

interface LeadState {
  checkpoint: LogCheckpoint;
  retryMs: number;
  /** The save of the last published batch's checkpoint, running while the next batch is read and published. */
  saving: Promise<void>;
}

/** The relay's checkpoint (and leader lock) name unless told otherwise. */
export const RELAY_CHECKPOINT = 'relay';

/** The first re-read after an empty read that followed activity; see the comment above. */
const FIRST_RETRY_MS = 1;

export interface RelayLog {
  readAll(after: LogCheckpoint, limit: number): Promise<{ events: RecordedEvent[]; checkpoint: LogCheckpoint }>;
  positionOf(eventId: string): Promise<LogCheckpoint | null>;
  readLastUpTo(after: LogCheckpoint, upTo: LogCheckpoint, limit: number): Promise<RecordedEvent[]>;
}

export interface RelayCheckpoints {
  get(name: string): Promise<LogCheckpoint | null | undefined>;
  /** `via` is the leader lock's session: a save made through it succeeds only while the lock is held. */
  save(name: string, checkpoint: LogCheckpoint, via: SqlExecutor): Promise<unknown>;
}

export interface RelayLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface EventRelayOptions {
  dataSource: DataSource;
  nc: NatsConnection;
  prefix: string;
  /** Defaults to the DataSource's url; the leader lock needs its own session. */
  databaseUrl?: string;
  checkpointName?: string;
  batchSize?: number;
  pollIntervalMs?: number;
  lockRetryMs?: number;
  errorBackoffMs?: number;
  publishTimeoutMs?: number;
  /** A statement on the leader lock's session (a checkpoint save) blocked longer than this fails and ends the leadership. */
  lockStatementTimeoutMs?: number;
  notifyChannel?: string;
  /** Stream settings used if the relay has to create the events stream. */
  topology?: Omit<TopologyOptions, 'consumers'>;
  logger?: RelayLogger;
  /** Defaults to the event store on `dataSource`. */
  log?: RelayLog;
  checkpoints?: RelayCheckpoints;
  /** On taking over, start after the newest event the stream already holds (default true); see (3). */
  skipPublishedTail?: boolean;
  /** Test seam: runs after a batch's acks arrived and before its checkpoint is saved. */
  afterPublish?: (events: RecordedEvent[]) => unknown;
}

export class EventRelay {
  private readonly o: Required<Omit<EventRelayOptions, 'afterPublish' | 'databaseUrl' | 'logger'>> & Pick<EventRelayOptions, 'afterPublish'>;
  private readonly databaseUrl: string;
  private readonly logger: RelayLogger;
  private readonly stream: string;
  private acks?: PubAckInbox;
  private jsm?: JetStreamManager;
  private running = false;
  private loop: Promise<void> | null = null;
  private leading = false;
  private wakePending = false;
  /** Set by a notification; the next empty read starts the short retries again. */
  private woken = false;
  private readonly sleepers = new Set<() => void>();

  constructor(options: EventRelayOptions) {
    this.o = {
      checkpointName: RELAY_CHECKPOINT,
      batchSize: 500,
      pollIntervalMs: 200,
      lockRetryMs: 1000,
      errorBackoffMs: 1000,
      publishTimeoutMs: 10_000,
      lockStatementTimeoutMs: 30_000,
      notifyChannel: EVENTS_CHANNEL,
      skipPublishedTail: true,
      topology: {},
      log: options.log ?? new EventStore(options.dataSource),
      checkpoints: options.checkpoints ?? new CheckpointStore(options.dataSource),
      ...stripUndefined(options),
    } as typeof this.o;
    const url = options.databaseUrl ?? (options.dataSource.options as { url?: string }).url;
    if (!url) throw new Error('EventRelay needs databaseUrl (the DataSource has no url)');
    this.databaseUrl = url;
    this.logger = options.logger ?? { log: () => undefined, warn: (m) => console.warn(m) };
    this.stream = eventStreamName(options.prefix);
  }

  /** True while this instance holds the leader lock (one per checkpoint name and database). */
  get isLeader(): boolean {
    return this.leading;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.jsm = await jetstreamManager(this.o.nc);
    await ensureEventStream(this.jsm, this.o.prefix, this.o.topology);
    this.acks = new PubAckInbox(this.o.nc);
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the current batch; a batch published but not checkpointed is re-published (and deduplicated) later. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = null;
    this.acks?.close();
    this.acks = undefined;
  }

  private async run(): Promise<void> {
    const candidate = new LeaderCandidate(this.databaseUrl, `reelay.relay.${this.o.checkpointName}`, { statementTimeoutMs: this.o.lockStatementTimeoutMs });
    try {
      await this.contend(candidate);
    } finally {
      await candidate.close();
    }
  }

  private async contend(candidate: LeaderCandidate): Promise<void> {
    while (this.running) {
      let lock: LeaderLock | null = null;
      try {
        lock = await candidate.tryAcquire(() => this.wake(), this.o.notifyChannel);
        if (!lock) {
          await this.sleep(this.o.lockRetryMs);
          continue;
        }
        this.leading = true;
        this.logger.log(`relay ${this.o.checkpointName}: leading`);
        await this.lead(lock);
      } catch (err) {
        this.logger.warn(`relay ${this.o.checkpointName}: ${(err as Error).message}; retrying`);
        await this.sleep(this.o.errorBackoffMs);
      } finally {
        this.leading = false;
        await lock?.release();
      }
    }
  }

  private async lead(lock: LeaderLock): Promise<void> {
    const state: LeadState = { checkpoint: await this.startingPoint(lock), retryMs: FIRST_RETRY_MS, saving: Promise.resolve() };
    try {
      while (this.running && !lock.lost) await this.step(lock, state);
    } catch (err) {
      // The error that ended the leadership is the one to report; a failed save behind it is logged.
      await state.saving.catch((saveErr: Error) => this.logger.warn(`relay ${this.o.checkpointName}: checkpoint save failed too: ${saveErr.message}`));
      throw err;
    }
    await state.saving;
  }

  /**
   * Where a new leader starts: the saved checkpoint, or the log position of the newest event the
   * stream already holds when that is further on (see (3) above), once any hole before it is filled (4).
   */
  private async startingPoint(lock: LeaderLock): Promise<LogCheckpoint> {
    const saved = (await this.o.checkpoints.get(this.o.checkpointName)) ?? LOG_START;
    const tailId = this.o.skipPublishedTail ? await lastPublishedEventId(this.jsm!, this.stream) : null;
    const tail = tailId ? await this.o.log.positionOf(tailId) : null;
    if (!tail || compareCheckpoints(tail, saved) <= 0) return saved;
    await this.fillHoleBefore(saved, tail, lock);
    return tail;
  }

  private async fillHoleBefore(saved: LogCheckpoint, tail: LogCheckpoint, lock: LeaderLock): Promise<void> {
    const recent = await this.o.log.readLastUpTo(saved, tail, 2 * this.o.batchSize);
    // Twice as many messages as events, for dead-letter replays and late duplicates among them.
    const stored = await storedAmongNewest(this.jsm!, this.stream, recent.map((e) => e.eventId), 2 * recent.length + 100);
    const missing = recent.filter((e) => !stored.has(e.eventId));
    if (missing.length === 0) return;
    this.logger.warn(`relay ${this.o.checkpointName}: the stream lacks ${missing.length} of the ${recent.length} events before its newest; publishing them first`);
    await this.publishUntilStored(missing, lock);
  }

  /** One read; when it found events, their publish and the start of their checkpoint's save. */
  private async step(lock: LeaderLock, state: LeadState): Promise<void> {
    this.woken = false;
    const { events, checkpoint: next } = await this.o.log.readAll(state.checkpoint, this.o.batchSize);
    if (events.length === 0) {
      await this.sleep(this.woken ? FIRST_RETRY_MS : Math.min(state.retryMs, this.o.pollIntervalMs));
      state.retryMs = this.woken ? FIRST_RETRY_MS : state.retryMs * 2;
      return;
    }
    state.retryMs = FIRST_RETRY_MS;
    await this.publishUntilStored(events, lock);
    // Saves run in order, each only while the lock is still ours (see above); a failed save
    // surfaces here, at the next batch (or when leading ends), and ends the leadership. Taken out
    // of the state first, so the error is reported once, not again as a second failure.
    const saving = state.saving;
    state.saving = Promise.resolve();
    await saving;
    await this.o.afterPublish?.(events);
    state.saving = this.o.checkpoints.save(this.o.checkpointName, next, lock).then(() => undefined);
    state.saving.catch(() => undefined); // awaited at the next batch or when leading ends
    state.checkpoint = next;
  }

  /**
   * Publishes a batch, sending the whole batch again until every message is acknowledged. A failed
   * batch may have stored some messages and not others (a connection lost mid-batch, a stream
   * leader change): the stream's tail then lies past a hole, so a leader starting over would skip
   * the hole (see (3)). Sending the same batch again fills it (stored messages are dropped as
   * duplicates), at the cost of the late event landing after its successors, the edge in (4).
   */
  private async publishUntilStored(events: RecordedEvent[], lock: LeaderLock): Promise<void> {
    for (;;) {
      try {
        await this.publish(events);
        return;
      } catch (err) {
        if (!this.running || lock.lost) throw err;
        this.logger.warn(`relay ${this.o.checkpointName}: publishing ${events.length} events failed (${(err as Error).message}); sending the batch again`);
        await new Promise((resolve) => setTimeout(resolve, this.o.errorBackoffMs));
        // A stream lost with the JetStream store (or deleted) is made again, as at start; a failure here is the next try's.
        await ensureEventStream(this.jsm!, this.o.prefix, this.o.topology).catch(() => undefined);
      }
    }
  }

  private async publish(events: RecordedEvent[]): Promise<void> {
    const messages = events.map((e) => ({
      subject: eventSubject(this.o.prefix, e),
      data: JSON.stringify(e),
      msgId: e.eventId,
      // The envelope keeps it too; the header lets tools and non-reelay consumers follow the trace.
      headers: traceHeaders(e.metadata.traceparent ?? undefined),
    }));
    await this.acks!.publishAll(this.stream, messages, this.o.publishTimeoutMs);
  }

  private wake(): void {
    this.wakePending = true;
    this.woken = true;
    for (const s of this.sleepers) s();
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending || !this.running) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        this.wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
