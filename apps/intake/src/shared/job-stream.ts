import { jobStreamId } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { foldRecordedJob, toPublicJob, type JobState } from '@reelay/job-domain';

export async function loadJob(store: EventStore, jobId: string) {
  return foldRecordedJob(await store.readStream(jobStreamId(jobId)));
}

export const publicJob = ({ state, version }: { state: JobState; version: number }) => toPublicJob(state, version);
