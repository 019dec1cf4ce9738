/** When a provider's jobs are checked: fixed offsets after acceptance, then a slower cadence until a deadline. */
export interface SchedulePolicy {
  /** Checks at these offsets (ms) after the provider accepted the job, strictly increasing. */
  offsetsMs: readonly number[];
  /** Cadence once the job is `delayed` (the offsets are used up). */
  delayedIntervalMs: number;
  /** After this long (ms since acceptance) a job still unfinished fails with `provider_timeout`. */
  deadlineMs: number;
  /**
   * Wait after a check that could not be made (provider 429/5xx/timeout) when the provider gives no
   * Retry-After; doubled for each failed check in a row, up to the delayed cadence.
   */
  errorRetryMs: number;
}

/** The shortest wait a Retry-After buys: 0, or a date already past, would check again at once, over and over. */
export const MIN_RETRY_AFTER_MS = 1_000;

export interface ScheduleRow {
  acceptedAt: Date;
  deadlineAt: Date;
  /** The job's own deadline (`cancelAfterSeconds`), if it has one. */
  cancelAt?: Date | null;
  checksDone: number;
  /** Checks in a row that could not be made, before this one. */
  checkErrors?: number;
}

export type NextStep =
  | { kind: 'timed_out' }
  | { kind: 'past_cancel_at' }
  | { kind: 'check_later'; checksDone: number; nextCheckAt: Date; markDelayed: boolean };

const at = (ms: number) => new Date(ms);

/** The first offset after acceptance, or the job's own deadline (`cancelAt`) when that comes first (not before the acceptance). */
export function firstCheckAt(acceptedAt: Date, policy: SchedulePolicy, cancelAt: Date | null = null): Date {
  const first = acceptedAt.getTime() + (policy.offsetsMs[0] ?? 0);
  return at(cancelAt && cancelAt.getTime() < first ? Math.max(cancelAt.getTime(), acceptedAt.getTime()) : first);
}

export function deadlineFor(acceptedAt: Date, policy: SchedulePolicy): Date {
  return at(acceptedAt.getTime() + policy.deadlineMs);
}

/**
 * After a check found the job still queued or running. The next check is at the first offset still
 * ahead of now, counted from acceptance, whatever brought this one: a callback's early check does
 * not use up an offset (nor make the job `delayed` before its time), and a late check (a backlog,
 * the follow sweep) does not fire the offsets it missed one after the other. Once the last offset
 * has passed the job is `delayed` and checked every `delayedIntervalMs`; `checksDone` is then at
 * least the number of offsets (equal at the check that marks it). No check is ever planned after
 * the deadline, and a check at or past it that still finds the job unfinished times the job out.
 * The job's own deadline (`cancelAt`) comes first: a check is planned at it, and one at or past it
 * that finds the job unfinished gives the job up (`past_cancel_at`).
 */
export function afterUnfinishedCheck(row: ScheduleRow, now: Date, policy: SchedulePolicy): NextStep {
  if (row.cancelAt && now.getTime() >= row.cancelAt.getTime()) return { kind: 'past_cancel_at' };
  if (now.getTime() >= row.deadlineAt.getTime()) return { kind: 'timed_out' };
  const elapsed = now.getTime() - row.acceptedAt.getTime();
  const ahead = policy.offsetsMs.findIndex((offset) => offset > elapsed);
  const offsetsLeft = ahead !== -1 && row.checksDone < policy.offsetsMs.length;
  const checksDone = offsetsLeft ? Math.max(ahead, row.checksDone) : Math.max(row.checksDone + 1, policy.offsetsMs.length);
  const planned = offsetsLeft ? row.acceptedAt.getTime() + policy.offsetsMs[checksDone] : now.getTime() + policy.delayedIntervalMs;
  return {
    kind: 'check_later',
    checksDone,
    nextCheckAt: at(Math.min(planned, row.deadlineAt.getTime(), row.cancelAt?.getTime() ?? Infinity)),
    markDelayed: !offsetsLeft,
  };
}

/**
 * After a check that failed on the provider's side (429, 5xx, timeout): try again later, within the
 * deadline, and at the job's own deadline if that comes first. Past that one the job is not given
 * up unasked: the provider may have finished it (intake gives it up later, see DEADLINE_CHECK_GRACE_MS).
 * The provider's Retry-After is followed (at least MIN_RETRY_AFTER_MS); without one the wait doubles
 * with each failure in a row, so a provider that is down is not asked more often than a delayed job.
 */
export function afterFailedCheck(row: ScheduleRow, now: Date, policy: SchedulePolicy, retryAfterMs?: number): Exclude<NextStep, { kind: 'past_cancel_at' }> {
  if (now.getTime() >= row.deadlineAt.getTime()) return { kind: 'timed_out' };
  const backoff = Math.min(policy.errorRetryMs * 2 ** Math.min(row.checkErrors ?? 0, 20), Math.max(policy.errorRetryMs, policy.delayedIntervalMs));
  const wait = retryAfterMs === undefined ? backoff : Math.max(retryAfterMs, MIN_RETRY_AFTER_MS);
  const cancelAt = row.cancelAt && row.cancelAt > now ? row.cancelAt.getTime() : Infinity;
  return { kind: 'check_later', checksDone: row.checksDone, nextCheckAt: at(Math.min(now.getTime() + wait, row.deadlineAt.getTime(), cancelAt)), markDelayed: false };
}
