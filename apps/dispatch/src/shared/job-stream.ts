import { parseEvent, type JobEvent, type RecordedEvent } from '@reelay/contracts';
import { jobDecider, type JobState } from '@reelay/job-domain';

export const jobFold = { evolve: jobDecider.evolve, initialState: jobDecider.initialState };

export function foldJob(events: RecordedEvent[]): JobState {
  return events.reduce((s, e) => jobDecider.evolve(s, parseEvent(e.type, e.schemaVersion, e.data) as JobEvent), jobDecider.initialState());
}
