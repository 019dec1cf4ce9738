import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, loadStreamState, type EventStore } from '@reelay/event-store';
import { decideJob, jobDecider, type JobCommand, type JobState } from '@reelay/job-domain';

export async function loadJob(store: EventStore, jobId: string): Promise<JobState> {
  return (await loadStreamState(store, jobStreamId(jobId), jobDecider)).state;
}

/** Read, fold, decide, append with the expected version (retried on conflict). Returns the new status. */
export async function decideOnJob(store: EventStore, jobId: string, command: JobCommand, metadata: EventMetadata) {
  const result = await handle(store, jobStreamId(jobId), jobDecider, (state) => decideJob(command, state), { metadata });
  return { state: result.state, changed: result.events.length > 0 };
}
