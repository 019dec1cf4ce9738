import { jobStreamId, type CancelJobCommand, type CommandReply, type JobStatus } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, jobDecider, type JobCommand } from '@reelay/job-domain';
import { commandMetadata } from './command-metadata';
import { loadJob, publicJob } from './job-stream';
import { ok, refuse } from './replies';

const NOT_FOUND = refuse('not_found', 'No such job.');

/**
 * A user's command on one of their jobs: another user's job or a missing one answers 404; a
 * command the job's state does not allow answers 409 with `refusal`'s text, and changes nothing.
 */
export async function decideOnOwnedJob(
  deps: { store: EventStore; now: () => Date },
  cmd: CancelJobCommand,
  command: (now: Date) => JobCommand,
  refusal: (status: JobStatus) => string,
): Promise<CommandReply> {
  const current = await loadJob(deps.store, cmd.jobId);
  if (!current.state.exists || current.state.userId !== cmd.userId) return NOT_FOUND;
  try {
    const result = await handle(deps.store, jobStreamId(cmd.jobId), jobDecider, (state) => decideJob(command(deps.now()), state), {
      metadata: commandMetadata(cmd),
    });
    return ok(publicJob(result));
  } catch (err) {
    if (err instanceof IllegalTransitionError) {
      const job = await loadJob(deps.store, cmd.jobId);
      return refuse('invalid_state', refusal(job.state.status));
    }
    throw err;
  }
}
