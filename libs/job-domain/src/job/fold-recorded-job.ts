import { readEvent, type JobEvent, type RecordedEvent } from '@reelay/contracts';
import { evolveJob } from './evolve';
import { initialJobState, type JobState } from './job-state';

/** Parses recorded events (upcasting old versions, dropping fields a newer release added) into job events. */
export const toJobEvent = (e: RecordedEvent): JobEvent => readEvent(e.type, e.schemaVersion, e.data) as JobEvent;

/**
 * The job state after a stream's recorded events, and the stream version it reflects; `from` is a
 * state already folded up to the version before the first of `events`.
 */
export function foldRecordedJob(events: readonly RecordedEvent[], from?: { state: JobState; version: number }): { state: JobState; version: number } {
  let state = from?.state ?? initialJobState();
  for (const e of events) state = evolveJob(state, toJobEvent(e));
  return { state, version: events.at(-1)?.streamVersion ?? from?.version ?? 0 };
}
