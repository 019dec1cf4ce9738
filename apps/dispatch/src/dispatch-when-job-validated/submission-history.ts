import type { JobEvent } from '@reelay/contracts';
import { evolveJob, initialJobState, type JobState } from '@reelay/job-domain';

export interface SubmissionRetry {
  reason: 'rate_limited' | 'provider_error';
  retryAt: Date;
}

export interface SubmissionHistory {
  /** When the job passed validation: how long it has waited to be sent. */
  validatedAt: Date | null;
  /** When the job's first intent at its current provider was recorded (start of its retry budget there). */
  intentAt: Date | null;
  /** Retries scheduled for the job's submission at its current provider, oldest first, over all its tries there. */
  retries: SubmissionRetry[];
  /** Every provider the job was sent to (or meant to be), in order: a failover picks none of them again. */
  providers: string[];
  /**
   * The last thing recorded is a retry, i.e. the last try was answered with an error. False right
   * after an intent: the outcome of that try is unknown (a crash).
   */
  lastTryRejected: boolean;
  /** When the last try's error was recorded, while `lastTryRejected`. */
  rejectedAt: Date | null;
  /** The retry time when a retry is pending. */
  pendingRetryAt: Date | null;
  /** Where the last refusal sent the job on (a failover), until a try is intended there. */
  failoverTo: string | null;
}

const NO_HISTORY: SubmissionHistory = { validatedAt: null, intentAt: null, retries: [], providers: [], lastTryRejected: false, rejectedAt: null, pendingRetryAt: null, failoverTo: null };

/** What dispatch needs beyond JobState: the retry bookkeeping of the current submission attempt. */
export function evolveSubmissionHistory(h: SubmissionHistory, e: JobEvent): SubmissionHistory {
  if (e.type === 'JobValidated') return { ...h, validatedAt: new Date(e.data.at) };
  if (e.type === 'JobSubmissionIntended') {
    const tries = { lastTryRejected: false, rejectedAt: null, pendingRetryAt: null, failoverTo: null };
    // A retry's own intent (a provider that can neither de-duplicate nor list) keeps the budget running;
    // a failover to another provider starts a budget there.
    if (h.providers.at(-1) === e.data.provider) return { ...h, ...tries };
    return { ...h, ...tries, intentAt: new Date(e.data.at), retries: [], providers: [...h.providers, e.data.provider] };
  }
  if (e.type === 'JobSubmissionRetryScheduled') {
    const retryAt = new Date(e.data.retryAt);
    return { ...h, retries: [...h.retries, { reason: e.data.reason, retryAt }], lastTryRejected: true, rejectedAt: new Date(e.data.at), pendingRetryAt: retryAt, failoverTo: e.data.nextProvider ?? null };
  }
  if (e.type === 'JobProviderAccepted') return { ...h, pendingRetryAt: null, failoverTo: null };
  return h;
}

/**
 * Every try at the current provider was refused with a 429, so none of them made a task: a
 * provider that rate-limits answers before it creates anything. A retry then needs no look for a
 * task by our key first (at a busy account that list is long, and read on every retry it would
 * use up what the lookup may read and fail a job that only waited for its turn). A try that timed
 * out or met a 5xx may have reached the provider, and is looked up as before.
 */
export function everyTryRefused(history: SubmissionHistory): boolean {
  return history.lastTryRejected && history.retries.length > 0 && history.retries.every((r) => r.reason === 'rate_limited');
}

export interface DispatchView {
  job: JobState;
  history: SubmissionHistory;
}

/**
 * The job as dispatch decides on it: its state and its submission history, folded together so one
 * cached state (EventStore.states) serves both and a delivery needs no stream read.
 */
export const dispatchView = {
  initialState: (): DispatchView => ({ job: initialJobState(), history: NO_HISTORY }),
  evolve: (s: DispatchView, e: JobEvent): DispatchView => ({ job: evolveJob(s.job, e), history: evolveSubmissionHistory(s.history, e) }),
};
