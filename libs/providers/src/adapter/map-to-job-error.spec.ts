import { toJobErrorCode } from './map-to-job-error';
import { normalizedError, ProviderError } from './provider-error';
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

  it('redacts the details every adapter builds, also a task failure quoting a presigned URL', () => {
    const quoted = 'input image https://bucket.s3.amazonaws.com/ref.png?X-Amz-Security-Token=FQoGZXIv&X-Amz-Signature=ab12 could not be read';
    const thrown = new ProviderError('asset_fetch', quoted);
    const reported = normalizedError('server', `task failed: ${quoted}; Bearer abcdefghijkl`);
    for (const detail of [thrown.detail, thrown.message, reported.detail]) {
      expect(detail).toContain('https://bucket.s3.amazonaws.com/ref.png?[query removed]');
      expect(detail).not.toMatch(/FQoGZXIv|ab12|abcdefghijkl/);
    }
    expect(thrown.detail).toBe('input image https://bucket.s3.amazonaws.com/ref.png?[query removed] could not be read');
  });
});
