import type { CancelJobCommand, CommandReply } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { decideOnOwnedJob } from '../shared/owned-job-command';

/** Cancel: any unfinished job becomes `canceled` at once; polling asks the provider to stop. */
export function cancelJob(deps: { store: EventStore; now: () => Date }, cmd: CancelJobCommand): Promise<CommandReply> {
  return decideOnOwnedJob(deps, cmd, (now) => ({ type: 'Cancel', now }), (status) => `This job is already ${status} and cannot be canceled.`);
}
