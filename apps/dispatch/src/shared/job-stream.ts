import type { RecordedEvent } from '@reelay/contracts';
import { foldRecordedJob, jobDecider, type JobState } from '@reelay/job-domain';

export const jobFold = { evolve: jobDecider.evolve, initialState: jobDecider.initialState };

export function foldJob(events: RecordedEvent[]): JobState {
  return foldRecordedJob(events).state;
}
