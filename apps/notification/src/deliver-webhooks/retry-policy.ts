export interface RetryPolicy {
  /** Attempts per status change before it is given up (marked failed). */
  maxAttempts: number;
  /** Delay after the first failed attempt; doubles per failed attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Delay before the next attempt, after `attemptsDone` failed ones: base · 2^(n-1), capped. */
export function retryDelayMs(policy: RetryPolicy, attemptsDone: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsDone - 1));
}
