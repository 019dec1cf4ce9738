import { jobStreamId, type CancelJobCommand, type CommandReply } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, jobDecider } from '@reelay/job-domain';
import { loadJob, publicJob } from '../shared/job-stream';
import { ok, refuse } from '../shared/replies';

const NOT_FOUND = refuse('not_found', 'No such job.');

/** Cancel: any unfinished job becomes `canceled` at once; polling asks the provider to stop. */
export async function cancelJob(deps: { store: EventStore; now: () => Date }, cmd: CancelJobCommand): Promise<CommandReply> {
  const current = await loadJob(deps.store, cmd.jobId);
  if (!current.state.exists || current.state.userId !== cmd.userId) return NOT_FOUND;
  try {
    const result = await handle(deps.store, jobStreamId(cmd.jobId), jobDecider, (state) => decideJob({ type: 'Cancel', now: deps.now() }, state), {
      metadata: { correlationId: cmd.correlationId, userId: cmd.userId, ...(cmd.traceparent ? { traceparent: cmd.traceparent } : {}) },
    });
    return ok(publicJob(result));
  } catch (err) {
    if (err instanceof IllegalTransitionError) {
      const job = await loadJob(deps.store, cmd.jobId);
      return refuse('invalid_state', `This job is already ${job.state.status} and cannot be canceled.`);
    }
    throw err;
  }
}
