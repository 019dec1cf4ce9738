import { readEvent, type DomainEvent, type EventMetadata, type RecordedEvent } from '@reelay/contracts';
import { ConcurrencyError } from '../store/errors';
import type { EventStore } from '../store/event-store';
import type { NewEvent } from '../store/types';
import type { SnapshotPolicy } from '../snapshots/stream-snapshot-store';
import { inTransaction, type SqlExecutor } from '../sql/sql-executor';
import { lockStreams } from '../store/stream-lock';

export interface StreamFold<State, Event> {
  evolve(state: State, event: Event): State;
  /** The state of an empty stream, or a function returning it (as a Decider's `initialState()`). */
  initialState: State | (() => State);
  /** For streams that keep growing: their folded state is saved now and then (its JSON) and loaded from there. */
  snapshot?: SnapshotPolicy;
}

export interface HandleOptions {
  /** How many times to re-read and re-decide after a ConcurrencyError (default 5). */
  maxRetries?: number;
  /** Metadata for every new event that brings none of its own. */
  metadata?: EventMetadata;
  /**
   * The version of the event that triggered this command. A state this process already holds at
   * that version or later is decided on without reading the stream; the append's expected-version
   * check still catches anything newer (then the stream is re-read). Only for work whose every
   * effect is that append: code that acts outside the log (calls a provider) on a state must load
   * it without this option, which reads the events after the cached state.
   */
  atLeastVersion?: number;
  /**
   * When every optimistic try lost its race, decide once more inside a transaction that holds the
   * stream's append lock (lockStreams), where no writer can move it between the read and the append.
   * For a hot stream whose writes must not fail (a credit release a user waits on): the locked round
   * makes the stream's other appends wait for its few round trips, so it comes only after the
   * optimistic ones.
   */
  lockAfterConflicts?: boolean;
}

export interface LoadOptions {
  atLeastVersion?: number;
  tx?: SqlExecutor;
}

export interface HandleResult<State> {
  /** The state after the new events. */
  state: State;
  /** The events appended (empty when decide returned none). */
  events: RecordedEvent[];
  /** The stream's version after the append. */
  version: number;
}

export type Decide<State> = (state: State, version: number) => NewEvent[] | Promise<NewEvent[]>;

/**
 * Command handling in one call: read the stream, fold it, decide, append at the version read.
 * A racing writer makes the append fail with ConcurrencyError; then we re-read and re-decide on
 * the fresh state (the decider sees the other writer's events, so it can return [] when its
 * outcome is already there), up to `maxRetries` times.
 */
export async function handle<State, Event extends DomainEvent = DomainEvent>(
  store: EventStore,
  streamId: string,
  fold: StreamFold<State, Event>,
  decide: Decide<State>,
  opts: HandleOptions = {},
): Promise<HandleResult<State>> {
  const maxRetries = opts.maxRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    // After a conflict the cached state is known to be behind: read what was appended since.
    const { state, version } = await loadStreamState(store, streamId, fold, { atLeastVersion: attempt === 0 ? opts.atLeastVersion : undefined });
    const decided = await decide(state, version);
    if (decided.length === 0) return { state, events: [], version };
    const events = withMetadata(decided, opts.metadata);
    try {
      const result = await store.append(streamId, version, events);
      const after = foldEvents(fold, state, result.events);
      rememberStreamState(store, fold, streamId, { state: after, version: result.nextExpectedVersion }, version);
      return { state: after, events: result.events, version: result.nextExpectedVersion };
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      if (attempt >= maxRetries) {
        if (opts.lockAfterConflicts) return handleUnderLock(store, streamId, fold, decide, opts);
        throw err;
      }
      // Jitter so that a crowd of writers on one stream spreads out instead of colliding again.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
  }
}

/** One read-decide-append under the stream's append lock (see HandleOptions.lockAfterConflicts). */
async function handleUnderLock<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  fold: StreamFold<State, Event>,
  decide: Decide<State>,
  opts: HandleOptions,
): Promise<HandleResult<State>> {
  const { result, base } = await inTransaction(store.dataSource, async (tx) => {
    await lockStreams(tx, [streamId]);
    const { state, version } = await loadStreamState(store, streamId, fold, { tx });
    const decided = await decide(state, version);
    if (decided.length === 0) return { result: { state, events: [], version }, base: version };
    const events = withMetadata(decided, opts.metadata);
    const appended = await store.append(streamId, version, events, { tx });
    return { result: { state: foldEvents(fold, state, appended.events), events: appended.events, version: appended.nextExpectedVersion }, base: version };
  });
  // Only once committed: a rolled-back append must not be remembered.
  if (result.events.length > 0) rememberStreamState(store, fold, streamId, { state: result.state, version: result.version }, base);
  return result;
}

/**
 * The stream's current state: the state this process last folded (store.states) brought up to
 * date with only the events after it, or without any read when it is at `atLeastVersion` or later.
 * A stream this process has not folded yet starts from its saved snapshot when the fold has a
 * snapshot policy. Inside a transaction (`tx`) the reads see that transaction's snapshot.
 */
export async function loadStreamState<State, Event extends DomainEvent = DomainEvent>(
  store: EventStore,
  streamId: string,
  fold: StreamFold<State, Event>,
  opts: LoadOptions = {},
): Promise<{ state: State; version: number }> {
  let known = store.states.get<State>(fold, streamId);
  if (known && opts.atLeastVersion !== undefined && known.version >= opts.atLeastVersion) return known;
  if (!known && fold.snapshot) known = await store.snapshots.load<State>(streamId, fold.snapshot.name, opts.tx);
  const tail = await store.readStream(streamId, (known?.version ?? 0) + 1, { tx: opts.tx });
  if (tail.length === 0 && known) {
    store.states.set(fold, streamId, known.state, known.version);
    return known;
  }
  const loaded = { state: foldEvents(fold, known?.state ?? initial(fold), tail), version: tail.at(-1)?.streamVersion ?? known?.version ?? 0 };
  rememberStreamState(store, fold, streamId, loaded, known?.version ?? 0);
  return loaded;
}

/**
 * Caches a state this process folded or appended (a committed one only), and saves it as the
 * stream's snapshot when the fold has a policy and the stream passed a multiple of its `every`
 * since `fromVersion`, the version the state was known at before.
 */
export function rememberStreamState<State, Event>(
  store: EventStore,
  fold: StreamFold<State, Event>,
  streamId: string,
  at: { state: State; version: number },
  fromVersion: number,
): void {
  store.states.set(fold, streamId, at.state, at.version);
  const every = fold.snapshot?.every;
  if (every && Math.floor(at.version / every) > Math.floor(fromVersion / every)) store.snapshots.save(streamId, fold.snapshot!.name, at.version, at.state);
}

/** `metadata` on every new event that brings none of its own. */
function withMetadata(events: NewEvent[], metadata: EventMetadata | undefined): NewEvent[] {
  return metadata ? events.map((e) => ({ ...e, metadata: e.metadata ?? metadata })) : events;
}

function initial<State, Event>(fold: StreamFold<State, Event>): State {
  return typeof fold.initialState === 'function' ? (fold.initialState as () => State)() : fold.initialState;
}

function foldEvents<State, Event extends DomainEvent>(fold: StreamFold<State, Event>, state: State, events: RecordedEvent[]): State {
  return events.reduce((s, e) => fold.evolve(s, readEvent(e.type, e.schemaVersion, e.data) as Event), state);
}
