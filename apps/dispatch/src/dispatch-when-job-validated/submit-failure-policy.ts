import type { JobErrorCode } from '@reelay/contracts';
import { toJobErrorCode, type ProviderErrorKind } from '@reelay/providers';
import type { SubmissionHistory } from './submission-history';

export interface RetryPolicy {
  rateLimitBudgetMs: number;
  rateLimitMaxRetries: number;
  rateLimitDefaultWaitMs: number;
  serverMaxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export type SubmitFailureDecision =
  | { action: 'retry'; reason: 'rate_limited' | 'provider_error'; retryAt: Date }
  | { action: 'fail'; errorCode: JobErrorCode };

export interface SubmitFailure {
  kind: ProviderErrorKind;
  retryAfterMs?: number;
  /** False when the provider said this request will not succeed again (MiniMax's unknown codes, fal's `x-fal-retryable: false`). */
  retryable?: boolean;
  /** The try got no answer and may have made a task: the retry looks it up by our key first. */
  maybeDelivered?: boolean;
}

/**
 * How long a provider may take to list a task it created: the lookup that precedes the retry of a
 * try with no answer (or after a submit lost to a cancel) waits at least this, or it could miss a
 * task the provider created late and submit the job a second time.
 */
export const LISTING_LAG_MS = 5_000;

/**
 * What a rejected submit leads to. 429 waits as long as the provider asks (Retry-After) while the
 * attempt stays within its budget; 5xx and timeouts get a few retries with exponential backoff (a
 * Retry-After on them is followed up to the backoff's maximum: a maintenance page asking for an
 * hour would keep the job in `validating` that long per retry); an error the provider marks as not
 * worth retrying, and everything else, is final. The public code comes from the providers lib's mapping, except where
 * it names a stage the job is not in: a submit timeout is an outage here (provider_timeout is
 * about a task that never finishes), and a request the provider refuses as invalid passed our own
 * validation, so it is our fault or the provider's — never the user's `validation_failed`.
 */
export function decideSubmitFailure(failure: SubmitFailure, history: SubmissionHistory, now: Date, policy: RetryPolicy, jitter = 1): SubmitFailureDecision {
  const decision = decide(failure, history, now, policy, jitter);
  if (decision.action !== 'retry' || !failure.maybeDelivered) return decision;
  return { ...decision, retryAt: new Date(Math.max(decision.retryAt.getTime(), now.getTime() + LISTING_LAG_MS)) };
}

function decide(failure: SubmitFailure, history: SubmissionHistory, now: Date, policy: RetryPolicy, jitter: number): SubmitFailureDecision {
  const tries = (reason: string) => history.retries.filter((r) => r.reason === reason).length;
  switch (failure.kind) {
    case 'rate_limited': {
      // Never before the provider's Retry-After, and spread a little past it: jobs refused together
      // would otherwise all come back at the same moment and be refused together again.
      const wait = Math.max(0, failure.retryAfterMs ?? policy.rateLimitDefaultWaitMs) * (1 + Math.abs(jitter - 1));
      const retryAt = new Date(now.getTime() + Math.round(wait));
      const budgetStart = history.intentAt ?? now;
      const overBudget = retryAt.getTime() - budgetStart.getTime() > policy.rateLimitBudgetMs;
      if (overBudget || tries('rate_limited') >= policy.rateLimitMaxRetries || failure.retryable === false) return { action: 'fail', errorCode: 'provider_rate_limited' };
      return { action: 'retry', reason: 'rate_limited', retryAt };
    }
    case 'server':
    case 'timeout': {
      const n = tries('provider_error');
      if (n >= policy.serverMaxRetries || failure.retryable === false) return { action: 'fail', errorCode: 'unknown_provider_error' };
      const backoff = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** n) * jitter;
      const wait = Math.max(backoff, Math.min(failure.retryAfterMs ?? 0, policy.retryMaxMs));
      return { action: 'retry', reason: 'provider_error', retryAt: new Date(now.getTime() + Math.round(wait)) };
    }
    case 'moderation':
    case 'asset_fetch':
      return { action: 'fail', errorCode: toJobErrorCode(failure.kind) };
    default:
      return { action: 'fail', errorCode: 'unknown_provider_error' };
  }
}

/** Retries of 5xx and timeouts recorded at the job's current provider. */
export const serverRetries = (history: SubmissionHistory): number => history.retries.filter((r) => r.reason === 'provider_error').length;

/**
 * The job's tries at a provider that can be searched by our key ended in a try of unknown outcome
 * (a timeout) with the retry budget spent: one more pass only looks the task up, after the provider
 * lists what it made. It is scheduled as one retry past the budget, which no failure decision
 * schedules (decideSubmitFailure fails at the budget), so that count says the pass is a lookup only.
 */
export const lookupOnly = (history: SubmissionHistory, policy: Pick<RetryPolicy, 'serverMaxRetries'>): boolean => serverRetries(history) > policy.serverMaxRetries;
