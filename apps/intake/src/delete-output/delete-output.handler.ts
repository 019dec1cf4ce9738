import type { CommandReply, DeleteJobOutputCommand } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { decideOnOwnedJob } from '../shared/owned-job-command';

/**
 * Deletes a succeeded job's video at its owner's request: the job says so at once and its content
 * answers 410; polling removes the file when the deletion reaches it. Asking again changes nothing.
 */
export function deleteJobOutput(deps: { store: EventStore; now: () => Date }, cmd: DeleteJobOutputCommand): Promise<CommandReply> {
  return decideOnOwnedJob(deps, cmd, (now) => ({ type: 'DeleteOutput', reason: 'user', now }), (status) => `This job is ${status}: only a succeeded job has a video to delete.`);
}
