import type { CancelJobCommand, CommandReply } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import type { Logger } from '@reelay/service-kit';
import { settleCredits } from '../settle-credits/settle-credits.handler';
import { commandMetadata } from '../shared/command-metadata';
import { decideOnOwnedJob } from '../shared/owned-job-command';

/**
 * Cancel: any unfinished job becomes `canceled` at once; polling asks the provider to stop. The
 * job's credit hold is released before the reply, so a user who cancels to free credits can submit
 * again at once; the JobCanceled delivery releases it too (a repeat changes nothing), which covers
 * a release that fails here or a crash between the two appends.
 */
export async function cancelJob(deps: { store: EventStore; now: () => Date }, cmd: CancelJobCommand, logger: Logger): Promise<CommandReply> {
  const reply = await decideOnOwnedJob(deps, cmd, (now) => ({ type: 'Cancel', now }), (status) => `This job is already ${status} and cannot be canceled.`);
  if (reply.ok && reply.job.status === 'canceled') {
    await settleCredits(deps, cmd.jobId, commandMetadata(cmd)).catch((err: unknown) =>
      logger.warn({ err, jobId: cmd.jobId }, 'could not release the credits of a canceled job yet; its JobCanceled delivery will'),
    );
  }
  return reply;
}
