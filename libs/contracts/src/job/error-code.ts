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
