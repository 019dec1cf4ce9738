import type { Job, JobStatus, RecordedEvent } from '@reelay/contracts';
import { jobDecider, toJobEvent, toPublicJob, type JobState } from '@reelay/job-domain';

export interface StatusChange {
  version: number;
  status: JobStatus;
  job: Job;
  /** When the event that made this change was recorded. */
  at: string;
}

export interface JobHistory {
  /** State just before the event at `version`, and right after it. */
  before: JobState;
  after: JobState;
  version: number;
  /** Every status change up to `version` (the job's creation as `queued` included), oldest first. */
  statusChanges: StatusChange[];
}

/** Folds a job stream up to `upTo` (inclusive) with the job decider's evolve. */
export function foldJobHistory(events: RecordedEvent[], upTo: number): JobHistory {
  let before = jobDecider.initialState();
  let after = before;
  let version = 0;
  const statusChanges: StatusChange[] = [];
  for (const e of events) {
    if (e.streamVersion > upTo) break;
    before = after;
    after = jobDecider.evolve(before, toJobEvent(e));
    version = e.streamVersion;
    if (statusChanged(before, after)) statusChanges.push({ version, status: after.status, job: toPublicJob(after, version), at: e.recordedAt });
  }
  return { before, after, version, statusChanges };
}

export const statusChanged = (before: JobState, after: JobState) => after.exists && (!before.exists || before.status !== after.status);

/** What connected clients see change: the status (and so the message) or the progress. */
export const visibleChange = (before: JobState, after: JobState) => statusChanged(before, after) || (after.exists && before.progress !== after.progress);
