import { outputKey } from '@reelay/storage';
import type { PollingDeps } from '../polling.deps';

/**
 * A job that failed or was canceled never points at an output, yet a copy can exist: a check copied
 * it, then the process died before it recorded the success, and the cancel came before the check
 * was retaken. Nothing else would ever remove that file (the retention is off by default), so the
 * terminal event removes whatever is at the job's key; usually nothing is. A copy still running
 * writes a temporary file and renames it later: that check removes it itself (here too) on finding
 * the job ended, or its output deleted meanwhile.
 */
export async function removeUnusedOutput(deps: Pick<PollingDeps, 'storage'>, jobId: string): Promise<void> {
  // A failure is thrown: the terminal event is delivered again, since nothing else would remove the file.
  await deps.storage.remove(outputKey(jobId));
}
