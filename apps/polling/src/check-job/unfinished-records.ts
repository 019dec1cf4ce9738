import type { ProviderCheckResult } from '@reelay/providers';

/** What the schedule row says the checks already recorded in the job's stream. */
export interface RecordedSoFar {
  progress: number | null;
  delayedMarked: boolean;
}

/**
 * The events a check that found the task still queued or running asks for, judged from the
 * schedule row alone: a check with nothing new to record neither reads nor writes the job's stream.
 * - progress: when the provider's percentage is past the last one recorded;
 * - delayed: once, at the check that uses up the scheduled offsets (`checksDone` after it equals
 *   their number; checks_done only moves on after the write, so a failed write is retried), or
 *   when the provider itself reports the task delayed and nothing asked for it yet.
 * The job decider still has the last word (a repeat is no event; a finished job refuses both).
 */
export function unfinishedRecords(
  row: RecordedSoFar,
  result: Pick<ProviderCheckResult, 'progress' | 'delayed'>,
  step: { checksDone: number; markDelayed: boolean },
  offsetsCount: number,
): { progress?: number; markDelayed: boolean } {
  const percent = result.progress !== undefined && result.progress > 0 ? Math.round(result.progress * 100) : undefined;
  const progress = percent !== undefined && (row.progress === null || percent > row.progress) ? percent : undefined;
  const markDelayed = !row.delayedMarked && (result.delayed === true || (step.markDelayed && step.checksDone === offsetsCount));
  return { ...(progress !== undefined ? { progress } : {}), markDelayed };
}
