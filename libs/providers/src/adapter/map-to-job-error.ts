import type { JobErrorCode } from '@reelay/contracts';
import type { NormalizedProviderError, ProviderErrorKind } from './provider-error';

const KIND_TO_CODE: Record<ProviderErrorKind, JobErrorCode> = {
  invalid_request: 'validation_failed',
  moderation: 'moderation_rejected',
  timeout: 'provider_timeout',
  rate_limited: 'provider_rate_limited',
  asset_fetch: 'asset_fetch_failed',
  output_missing: 'output_missing',
  // Configuration faults and provider outages: nothing the user can fix.
  auth: 'unknown_provider_error',
  billing: 'unknown_provider_error',
  not_found: 'unknown_provider_error',
  server: 'unknown_provider_error',
};

/** The one place where a provider error becomes one of reelay's public job error codes. */
export function toJobErrorCode(error: Pick<NormalizedProviderError, 'kind'> | ProviderErrorKind): JobErrorCode {
  const kind = typeof error === 'string' ? error : error.kind;
  return KIND_TO_CODE[kind];
}
