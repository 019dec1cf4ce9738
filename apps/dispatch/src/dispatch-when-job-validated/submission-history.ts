import type { RecordedEvent } from '@reelay/contracts';
import { toJobEvent } from '@reelay/job-domain';

export interface SubmissionRetry {
  reason: 'rate_limited' | 'provider_error';
  retryAt: Date;
}

export interface SubmissionHistory {
  /** When the current attempt's intent was recorded (start of its retry budget). */
  intentAt: Date | null;
  /** Retries scheduled for the current attempt, oldest first. */
  retries: SubmissionRetry[];
  /**
   * The last thing recorded for the current attempt is a retry, i.e. its last try was answered
   * with an error. False right after the intent: the outcome of that try is unknown (a crash).
   */
  lastTryRejected: boolean;
  /** The retry time when a retry is pending. */
  pendingRetryAt: Date | null;
}

/** What dispatch needs beyond JobState: the retry bookkeeping of the current submission attempt. */
export function submissionHistory(events: RecordedEvent[]): SubmissionHistory {
  let h: SubmissionHistory = { intentAt: null, retries: [], lastTryRejected: false, pendingRetryAt: null };
  for (const recorded of events) {
    const e = toJobEvent(recorded);
    if (e.type === 'JobSubmissionIntended') {
      h = { intentAt: new Date(e.data.at), retries: [], lastTryRejected: false, pendingRetryAt: null };
    } else if (e.type === 'JobSubmissionRetryScheduled') {
      const retryAt = new Date(e.data.retryAt);
      h = { ...h, retries: [...h.retries, { reason: e.data.reason, retryAt }], lastTryRejected: true, pendingRetryAt: retryAt };
    } else if (e.type === 'JobProviderAccepted') {
      h = { ...h, pendingRetryAt: null };
    }
  }
  return h;
}
