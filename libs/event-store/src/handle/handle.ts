import { parseEvent, type DomainEvent, type EventMetadata, type RecordedEvent } from '@reelay/contracts';
import { ConcurrencyError } from '../store/errors';
import type { EventStore } from '../store/event-store';
import type { NewEvent } from '../store/types';

export interface StreamFold<State, Event> {
  evolve(state: State, event: Event): State;
  /** The state of an empty stream, or a function returning it (as a Decider's `initialState()`). */
  initialState: State | (() => State);
}

export interface HandleOptions {
  /** How many times to re-read and re-decide after a ConcurrencyError (default 5). */
  maxRetries?: number;
  /** Metadata for every new event that brings none of its own. */
  metadata?: EventMetadata;
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
    const recorded = await store.readStream(streamId);
    const state = foldEvents(fold, initial(fold), recorded);
    const version = recorded.at(-1)?.streamVersion ?? 0;
    const decided = await decide(state, version);
    if (decided.length === 0) return { state, events: [], version };
    const events = opts.metadata ? decided.map((e) => ({ ...e, metadata: e.metadata ?? opts.metadata })) : decided;
    try {
      const result = await store.append(streamId, version, events);
      return { state: foldEvents(fold, state, result.events), events: result.events, version: result.nextExpectedVersion };
    } catch (err) {
      if (!(err instanceof ConcurrencyError) || attempt >= maxRetries) throw err;
      // Jitter so that a crowd of writers on one stream spreads out instead of colliding again.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
  }
}

function initial<State, Event>(fold: StreamFold<State, Event>): State {
  return typeof fold.initialState === 'function' ? (fold.initialState as () => State)() : fold.initialState;
}

function foldEvents<State, Event extends DomainEvent>(fold: StreamFold<State, Event>, state: State, events: RecordedEvent[]): State {
  return events.reduce((s, e) => fold.evolve(s, parseEvent(e.type, e.schemaVersion, e.data) as Event), state);
}
