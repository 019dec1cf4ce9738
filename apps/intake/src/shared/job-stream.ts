import { jobStreamId } from '@reelay/contracts';
import { loadStreamState, type EventStore } from '@reelay/event-store';
import { jobDecider, toPublicJob, type JobState } from '@reelay/job-domain';

/** The job's state; at `atLeastVersion` or later it may come from this process's cache without a read. */
export function loadJob(store: EventStore, jobId: string, atLeastVersion?: number) {
  return loadStreamState(store, jobStreamId(jobId), jobDecider, { atLeastVersion });
}

export const publicJob = ({ state }: { state: JobState }) => toPublicJob(state);
