import { toJobErrorCode } from './map-to-job-error';
import { ProviderError } from './provider-error';
import { redact } from '../http/redact';

describe('toJobErrorCode', () => {
  it.each([
    ['invalid_request', 'validation_failed'],
    ['moderation', 'moderation_rejected'],
    ['timeout', 'provider_timeout'],
    ['rate_limited', 'provider_rate_limited'],
    ['asset_fetch', 'asset_fetch_failed'],
    ['output_missing', 'output_missing'],
    ['auth', 'unknown_provider_error'],
    ['billing', 'unknown_provider_error'],
    ['not_found', 'unknown_provider_error'],
    ['server', 'unknown_provider_error'],
  ] as const)('%s → %s', (kind, code) => {
    expect(toJobErrorCode(new ProviderError(kind, 'x'))).toBe(code);
  });

  it('defaults retryable by kind', () => {
    expect(new ProviderError('rate_limited', 'x').retryable).toBe(true);
    expect(new ProviderError('moderation', 'x').retryable).toBe(false);
    expect(new ProviderError('output_missing', 'x', { retryable: true }).retryable).toBe(true);
  });

  it('redacts keys from operator details', () => {
    expect(redact('auth Bearer sk-abc123456789 failed for key sk-live-abcdefghijk', ['sk-live-abcdefghijk'])).not.toMatch(/sk-/);
  });
});
