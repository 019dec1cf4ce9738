import type { RecordedEvent } from '@reelay/contracts';
import { foldRecordedJob, type JobState } from '@reelay/job-domain';

export function foldJob(events: RecordedEvent[]): JobState {
  return foldRecordedJob(events).state;
}
