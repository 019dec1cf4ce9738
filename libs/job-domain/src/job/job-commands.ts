import type { JobErrorCode, JobOutput, JobSubmitted, JobValidated } from '@reelay/contracts';
import type { z } from 'zod';
import type { ProviderTaskEndReason } from './job-state';

type SubmittedData = z.infer<(typeof JobSubmitted)['data']>;

/** What validation read of the reference image, and the fitted image sent instead when there is one. */
export type ValidatedImage = z.infer<(typeof JobValidated)['data']>['referenceImage'];

export type JobCommand =
  | { type: 'SubmitJob'; data: Omit<SubmittedData, 'at'>; now: Date }
  | { type: 'StartValidation'; now: Date }
  | { type: 'CompleteValidation'; referenceImage: ValidatedImage; now: Date }
  /** `attempt`: the try this intent is for (1 for the first); an intent for it already recorded is a no-op. */
  | { type: 'RecordSubmissionIntent'; provider: string; attempt: number; submissionKey: string; now: Date }
  /** `answersRetries`: the job's submissionRetries when the refused try was sent; a retry recorded since answers it already. */
  | { type: 'ScheduleSubmissionRetry'; reason: 'rate_limited' | 'provider_error'; retryAt: Date; nextProvider?: string; answersRetries: number; now: Date }
  | { type: 'RecordProviderAccepted'; provider: string; providerTaskId: string; now: Date }
  | { type: 'RecordProgress'; progress: number; now: Date }
  | { type: 'MarkDelayed'; now: Date }
  | { type: 'Succeed'; output: JobOutput; now: Date }
  | { type: 'Fail'; errorCode: JobErrorCode; message?: string | null; detail?: string | null; providerTaskMayExist?: boolean; now: Date }
  /**
   * `atDeadline`: reelay cancels the job because its `cancelAfterSeconds` passed (refused before
   * then). `providerChecked`: the provider was asked at the deadline and the task was not done; without
   * it a job running at a provider is canceled only once DEADLINE_CHECK_GRACE_MS more have passed.
   */
  | { type: 'Cancel'; atDeadline?: boolean; providerChecked?: boolean; now: Date }
  /** Deletes a succeeded job's output: `retention` once the `expiresAt` it was stored with has passed; `user` at any time. */
  | { type: 'DeleteOutput'; reason: 'retention' | 'user'; now: Date }
  /** A canceled job's provider task is over too (see JobProviderTaskEnded). */
  | { type: 'RecordProviderTaskEnded'; reason: Exclude<ProviderTaskEndReason, 'not_started'>; now: Date }
  /** A job canceled with its submit unanswered: the provider, asked by our key, has no task of it. */
  | { type: 'RecordNoProviderTask'; now: Date };
