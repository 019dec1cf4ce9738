import { isTerminal, jobStreamId } from '@reelay/contracts';
import { handle } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, jobDecider, type JobState } from '@reelay/job-domain';
import { jobIdOfOutputKey } from '@reelay/storage';
import type { PollingDeps } from '../polling.deps';

export interface RetentionSweepResult {
  /** Outputs past their expiry: `JobOutputDeleted` recorded (now or by an earlier round) and the file removed. */
  deleted: number;
  /** Files no succeeded job points at (copied for a job that then failed or was canceled, or of no job at all). */
  orphansRemoved: number;
}

/**
 * Deletes the outputs whose retention has ended. Storage is walked for files older than the
 * retention (a file is written before its job succeeds, so every expired output is among them);
 * each job then decides by its own record: `output.expiresAt`, or for an output stored before
 * retention was set, the job's success plus today's retention. The deletion is recorded before
 * the file goes, so a crash in between leaves a file that the next round finds and removes
 * (the job already says deleted), never a job that points at a missing file without saying so.
 * A file of an unfinished job is left alone: its check may be about to record it.
 */
export async function sweepExpiredOutputs(deps: Pick<PollingDeps, 'store' | 'storage' | 'outputRetentionMs'>, now: () => Date = () => new Date()): Promise<RetentionSweepResult> {
  const result: RetentionSweepResult = { deleted: 0, orphansRemoved: 0 };
  const retentionMs = deps.outputRetentionMs;
  if (retentionMs === null) return result;
  for await (const key of deps.storage.listOlderThan('outputs', retentionMs)) {
    const jobId = jobIdOfOutputKey(key);
    if (!jobId) continue;
    let state: JobState;
    try {
      const decide = (s: JobState) => (s.status === 'succeeded' ? decideJob({ type: 'DeleteOutput', reason: 'retention', retentionMs, now: now() }, s) : []);
      ({ state } = await handle(deps.store, jobStreamId(jobId), jobDecider, decide));
    } catch (err) {
      if (err instanceof IllegalTransitionError) continue; // stored with a later expiry than today's retention gives
      throw err;
    }
    if (state.status === 'succeeded') {
      await deps.storage.remove(key);
      result.deleted++;
    } else if (!state.exists || isTerminal(state.status)) {
      await deps.storage.remove(key);
      result.orphansRemoved++;
    }
  }
  return result;
}
