import { decideSubmitFailure, LISTING_LAG_MS, type RetryPolicy } from './submit-failure-policy';
import type { SubmissionHistory } from './submission-history';

const policy: RetryPolicy = {
  rateLimitBudgetMs: 60_000,
  rateLimitMaxRetries: 5,
  rateLimitDefaultWaitMs: 2_000,
  serverMaxRetries: 2,
  retryBaseMs: 1_000,
  retryMaxMs: 10_000,
};
const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const history = (retries: SubmissionHistory['retries'] = []): SubmissionHistory => ({
  validatedAt: t0,
  intentAt: t0,
  providers: ['runway'],
  retries,
  lastTryRejected: retries.length > 0,
  rejectedAt: retries.length > 0 ? t0 : null,
  pendingRetryAt: retries.at(-1)?.retryAt ?? null,
  failoverTo: null,
});

describe('decideSubmitFailure', () => {
  it('retries a 429 at the time Retry-After asks for', () => {
    expect(decideSubmitFailure({ kind: 'rate_limited', retryAfterMs: 7_000 }, history(), at(1_000), policy)).toEqual({
      action: 'retry',
      reason: 'rate_limited',
      retryAt: at(8_000),
    });
  });

  it('spreads 429 retries up to a fifth past Retry-After, never before it, so jobs refused together do not all come back together', () => {
    const retryAt = (jitter: number) => (decideSubmitFailure({ kind: 'rate_limited', retryAfterMs: 10_000 }, history(), at(0), policy, jitter) as { retryAt: Date }).retryAt;
    expect([0.8, 0.9, 1, 1.1, 1.2].map((j) => retryAt(j).getTime())).toEqual([12_000, 11_000, 10_000, 11_000, 12_000].map((ms) => at(ms).getTime()));
  });

  it('waits the default when a 429 has no Retry-After', () => {
    const d = decideSubmitFailure({ kind: 'rate_limited' }, history(), at(0), policy);
    expect(d).toEqual({ action: 'retry', reason: 'rate_limited', retryAt: at(2_000) });
  });

  it('fails with provider_rate_limited when the wait would end past the budget', () => {
    expect(decideSubmitFailure({ kind: 'rate_limited', retryAfterMs: 30_000 }, history(), at(40_000), policy)).toEqual({
      action: 'fail',
      errorCode: 'provider_rate_limited',
    });
  });

  it('fails with provider_rate_limited after the maximum number of 429 retries', () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ reason: 'rate_limited' as const, retryAt: at(i * 1000) }));
    expect(decideSubmitFailure({ kind: 'rate_limited', retryAfterMs: 1 }, history(five), at(6_000), policy)).toEqual({
      action: 'fail',
      errorCode: 'provider_rate_limited',
    });
  });

  it('backs off exponentially on 5xx and timeouts, then fails with unknown_provider_error', () => {
    expect(decideSubmitFailure({ kind: 'server' }, history(), at(0), policy)).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(1_000) });
    const one = [{ reason: 'provider_error' as const, retryAt: at(1_000) }];
    expect(decideSubmitFailure({ kind: 'timeout' }, history(one), at(1_000), policy)).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(3_000) });
    const two = [...one, { reason: 'provider_error' as const, retryAt: at(3_000) }];
    expect(decideSubmitFailure({ kind: 'server' }, history(two), at(3_000), policy)).toEqual({ action: 'fail', errorCode: 'unknown_provider_error' });
  });

  it('fails at once when the provider marks the error as not worth retrying', () => {
    expect(decideSubmitFailure({ kind: 'server', retryable: false }, history(), at(0), policy)).toEqual({ action: 'fail', errorCode: 'unknown_provider_error' });
    expect(decideSubmitFailure({ kind: 'rate_limited', retryable: false }, history(), at(0), policy)).toEqual({ action: 'fail', errorCode: 'provider_rate_limited' });
    expect(decideSubmitFailure({ kind: 'server', retryable: true }, history(), at(0), policy).action).toBe('retry');
  });

  it('follows a Retry-After on a 5xx only up to the longest backoff', () => {
    expect(decideSubmitFailure({ kind: 'server', retryAfterMs: 3_600_000 }, history(), at(0), policy)).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(10_000) });
    expect(decideSubmitFailure({ kind: 'server', retryAfterMs: 4_000 }, history(), at(0), policy)).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(4_000) });
  });

  it('retries a try that got no answer no sooner than the provider lists a task it made, so the lookup before the retry finds it', () => {
    expect(decideSubmitFailure({ kind: 'timeout', maybeDelivered: true }, history(), at(0), policy)).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(LISTING_LAG_MS) });
    // A longer wait stays as it is.
    const one = [{ reason: 'provider_error' as const, retryAt: at(1) }];
    expect(decideSubmitFailure({ kind: 'timeout', maybeDelivered: true }, history(one), at(0), { ...policy, retryBaseMs: 8_000 })).toEqual({ action: 'retry', reason: 'provider_error', retryAt: at(10_000) });
  });

  it('counts 429 and 5xx retries separately', () => {
    const limited = Array.from({ length: 4 }, (_, i) => ({ reason: 'rate_limited' as const, retryAt: at(i) }));
    expect(decideSubmitFailure({ kind: 'server' }, history(limited), at(10), policy).action).toBe('retry');
  });

  it.each([
    ['moderation', 'moderation_rejected'],
    ['asset_fetch', 'asset_fetch_failed'],
    ['invalid_request', 'unknown_provider_error'],
    ['auth', 'unknown_provider_error'],
    ['billing', 'unknown_provider_error'],
    ['not_found', 'unknown_provider_error'],
  ] as const)('fails a %s rejection at once with %s', (kind, errorCode) => {
    expect(decideSubmitFailure({ kind }, history(), at(0), policy)).toEqual({ action: 'fail', errorCode });
  });
});
