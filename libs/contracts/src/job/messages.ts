import type { JobErrorCode } from './error-code';
import type { JobStatus } from './job-status';

export const STATUS_MESSAGES: Record<Exclude<JobStatus, 'failed'>, string> = {
  queued: 'Your video is waiting to start.',
  validating: 'Checking your request.',
  running: 'Your video is being generated.',
  delayed: 'This is taking longer than usual. We are still checking.',
  succeeded: 'Your video is ready.',
  canceled: 'This video was canceled.',
};

export const ERROR_MESSAGES: Record<Exclude<JobErrorCode, 'validation_failed'>, string> = {
  moderation_rejected: 'This request could not be processed. Try changing the prompt or assets.',
  asset_fetch_failed: 'We could not read the input asset. Please upload it again.',
  provider_timeout: 'The provider did not return a result in time.',
  provider_rate_limited: 'The provider is busy right now. Please try again in a few minutes.',
  output_missing: 'The video was generated but could not be retrieved. Please try again.',
  unknown_provider_error: 'Something went wrong while generating your video. Please try again.',
};

/** A job reelay canceled because it had not finished within the `cancelAfterSeconds` its submit set. */
export function deadlineMessage(cancelAfterSeconds: number): string {
  const unitSeconds = ([[86_400, 'day'], [3600, 'hour'], [60, 'minute']] as const).find(([size]) => cancelAfterSeconds % size === 0) ?? [1, 'second'];
  const [amount, unit] = [cancelAfterSeconds / unitSeconds[0], unitSeconds[1]];
  return `This video was canceled: it was not ready within the ${amount} ${unit}${amount === 1 ? '' : 's'} you allowed.`;
}

/** A succeeded job whose video file was deleted (retention, or its owner). */
export const OUTPUT_DELETED_MESSAGE = 'This video was deleted. Generate it again to get a new one.';

const GENERIC_VALIDATION_MESSAGE = 'Your request could not be accepted. Please check the settings.';

/**
 * The user-facing text for a status. Validation failures carry their own message (written by
 * reelay's validator, never a provider's text); every other failure uses the fixed table.
 */
export function userMessage(status: JobStatus, errorCode?: JobErrorCode | null, validationMessage?: string | null): string {
  if (status !== 'failed') return STATUS_MESSAGES[status];
  if (!errorCode || errorCode === 'validation_failed') return validationMessage || GENERIC_VALIDATION_MESSAGE;
  return ERROR_MESSAGES[errorCode];
}
