import { z } from 'zod';

/** The seven reasons a job can fail; every `failed` job carries exactly one. */
export const JobErrorCode = z.enum([
  'validation_failed',
  'moderation_rejected',
  'provider_timeout',
  'provider_rate_limited',
  'asset_fetch_failed',
  'output_missing',
  'unknown_provider_error',
]);
export type JobErrorCode = z.infer<typeof JobErrorCode>;

/**
 * Whether submitting the same request again (regenerate) can succeed after a failure with this code:
 * the provider's trouble may pass; the request itself (its settings, prompt or image) will not.
 */
export const RETRYABLE_ERROR_CODES: Readonly<Record<JobErrorCode, boolean>> = {
  validation_failed: false,
  moderation_rejected: false,
  asset_fetch_failed: false,
  provider_timeout: true,
  provider_rate_limited: true,
  output_missing: true,
  unknown_provider_error: true,
};
