import { JobProviderAccepted, JobProviderAcceptedAfterCancel, jobStreamId, metadataCausedBy, readEvent, type EventMetadata, type RecordedEvent } from '@reelay/contracts';
import { handle, loadStreamState, type EventStore } from '@reelay/event-store';
import { decideJob, jobDecider, type JobCommand, type JobState } from '@reelay/job-domain';

const ACCEPTANCES: readonly string[] = [JobProviderAccepted.type, JobProviderAcceptedAfterCancel.type];

/** The job's last logged acceptance by a provider (after its cancel too), with the metadata for what follows from it. */
export function lastAcceptance(events: readonly RecordedEvent[]) {
  const accepted = events.findLast((e) => ACCEPTANCES.includes(e.type));
  if (!accepted) return null;
  // Both events carry provider and task id; read like any stored event (fields of newer releases dropped).
  const { data } = readEvent(accepted.type, accepted.schemaVersion, accepted.data) as { data: { provider: string; providerTaskId: string; at: string } };
  return { provider: data.provider, providerTaskId: data.providerTaskId, at: data.at, metadata: metadataCausedBy(accepted) };
}

export async function loadJob(store: EventStore, jobId: string): Promise<JobState> {
  return (await loadStreamState(store, jobStreamId(jobId), jobDecider)).state;
}

/**
 * Fold, decide, append with the expected version (re-read and retried on conflict). The state is
 * this process's cached one when it has it (folded at the follow, or at its last write), whatever
 * its version: the append's expected-version check catches any event since, and then the stream
 * is read and the command decided again. Returns the new status. `fresh`: decide on the stream as
 * it is now, for a command the cached state would refuse (it predates the event that allows it).
 */
export async function decideOnJob(store: EventStore, jobId: string, command: JobCommand, metadata: EventMetadata, opts: { fresh?: boolean } = {}) {
  const atLeastVersion = opts.fresh ? undefined : 0;
  const result = await handle(store, jobStreamId(jobId), jobDecider, (state) => decideJob(command, state), { metadata, atLeastVersion });
  return { state: result.state, changed: result.events.length > 0 };
}
