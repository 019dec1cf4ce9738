import { JobOutputDeleted } from '@reelay/contracts';
import { removeJobOutput } from '@reelay/storage';
import type { PollingDeps } from '../polling.deps';

/**
 * A job's output was deleted in the log: its file goes too, with the poster made of it. The retention sweep removes its own
 * files already (this is then a no-op); a deletion its owner asked for is removed only here.
 */
export async function removeDeletedOutput(deps: Pick<PollingDeps, 'storage' | 'metrics'>, jobId: string, data: unknown): Promise<void> {
  const { reason } = JobOutputDeleted.data.parse(data);
  await removeJobOutput(deps.storage, jobId);
  if (reason === 'user') deps.metrics.outputsDeleted.inc({ reason });
}
