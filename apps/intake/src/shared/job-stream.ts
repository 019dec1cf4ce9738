import { jobStreamId, parseEvent, type JobEvent, type RecordedEvent } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { jobDecider, toPublicJob, type JobState } from '@reelay/job-domain';

export const jobFold = { evolve: jobDecider.evolve, initialState: jobDecider.initialState };

export function foldJob(events: RecordedEvent[]): { state: JobState; version: number } {
  const state = events.reduce((s, e) => jobDecider.evolve(s, parseEvent(e.type, e.schemaVersion, e.data) as JobEvent), jobDecider.initialState());
  return { state, version: events.at(-1)?.streamVersion ?? 0 };
}

export async function loadJob(store: EventStore, jobId: string) {
  return foldJob(await store.readStream(jobStreamId(jobId)));
}

export const publicJob = ({ state, version }: { state: JobState; version: number }) => toPublicJob(state, version);
