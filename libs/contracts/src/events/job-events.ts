import { z } from 'zod';
import { JobErrorCode } from '../job/error-code';
import { AspectRatio, JobMetadata, ReferenceImage, Resolution } from '../job/job-settings';
import { JobOutput } from '../job/job-output';
import { JobCancelReason } from '../job/job';
import { defineEvent } from './define-event';

const at = z.iso.datetime();

export const JobSubmitted = defineEvent(
  'JobSubmitted',
  1,
  z.strictObject({
    jobId: z.string(),
    userId: z.string(),
    model: z.string(),
    provider: z.string(),
    prompt: z.string(),
    negativePrompt: z.string().nullable(),
    aspectRatio: AspectRatio,
    durationSeconds: z.number(),
    resolution: Resolution.nullable(),
    seed: z.number().int().nullable(),
    referenceImage: ReferenceImage.nullable(),
    webhookUrl: z.string().nullable(),
    /**
     * Only these are sent to webhookUrl; absent: every event. Plain strings here (the request checks
     * the types): a job of a later release that knows more types stays readable by this one.
     */
    webhookEvents: z.array(z.string()).optional(),
    metadata: JobMetadata,
    creditsEstimated: z.number().nonnegative(),
    requestHash: z.string(),
    /** The job this one generates again, with the same settings. */
    parentJobId: z.string().optional(),
    /** Canceled if not finished this long after `at`. */
    cancelAfterSeconds: z.number().int().positive().optional(),
    at,
  }),
);

export const JobValidationStarted = defineEvent('JobValidationStarted', 1, z.strictObject({ at }));

export const JobValidated = defineEvent(
  'JobValidated',
  1,
  z.strictObject({
    at,
    referenceImage: z
      .strictObject({
        contentType: z.string(),
        bytes: z.number().int(),
        width: z.number().int(),
        height: z.number().int(),
        /** The image fitted to the model, stored as an asset of the job's user; providers are sent it instead. */
        fitted: z
          .strictObject({ assetId: z.string(), contentType: z.string(), bytes: z.number().int(), width: z.number().int(), height: z.number().int(), cropped: z.boolean() })
          .optional(),
      })
      .nullable(),
  }),
);

/** Recorded before the provider is called, so a crash after the call can be reconciled, not repeated. */
export const JobSubmissionIntended = defineEvent(
  'JobSubmissionIntended',
  1,
  z.strictObject({ provider: z.string(), attempt: z.number().int().positive(), submissionKey: z.string(), at }),
);

export const JobSubmissionRetryScheduled = defineEvent(
  'JobSubmissionRetryScheduled',
  1,
  z.strictObject({
    provider: z.string(),
    attempt: z.number().int().positive(),
    reason: z.enum(['rate_limited', 'provider_error']),
    retryAt: z.iso.datetime(),
    /**
     * Set when the provider refused the job for good and it goes on to this provider of its model
     * (whose slot it holds already): the next try is made there, whichever delivery makes it.
     */
    nextProvider: z.string().optional(),
    at,
  }),
);

export const JobProviderAccepted = defineEvent(
  'JobProviderAccepted',
  1,
  z.strictObject({ provider: z.string(), providerTaskId: z.string(), at }),
);

export const JobProgressed = defineEvent('JobProgressed', 1, z.strictObject({ progress: z.number().int().min(0).max(100), at }));

export const JobDelayed = defineEvent('JobDelayed', 1, z.strictObject({ at }));

export const JobSucceeded = defineEvent(
  'JobSucceeded',
  1,
  z.strictObject({ output: JobOutput, creditsCharged: z.number().nonnegative(), at }),
);

export const JobFailed = defineEvent(
  'JobFailed',
  1,
  z.strictObject({
    errorCode: JobErrorCode,
    /** User-facing text; only validation failures carry their own. */
    message: z.string().nullable(),
    /** Operator-facing detail; never shown to users. */
    detail: z.string().nullable(),
    /**
     * The last submit's answer was lost (a timeout, a crash) at a provider that cannot be asked
     * again: it may be generating the job anyway, so the job's capacity slot stays held for a while.
     */
    providerTaskMayExist: z.literal(true).optional(),
    at,
  }),
);

/** `reason` `deadline`: reelay canceled it, unfinished at its `cancelAfterSeconds`; absent: its owner asked. */
export const JobCanceled = defineEvent('JobCanceled', 1, z.strictObject({ reason: JobCancelReason.optional(), at }));

/**
 * After a cancel: the provider's task is over too (stopped by our cancel call, seen finished by a
 * later check, or given up on at the job's deadline), so its capacity slot is free. Until then the
 * provider still counts the task against the account's limit. `not_started`: a job canceled with
 * its submit unanswered, where the provider, asked by our key, has no task of it (dispatch).
 */
export const JobProviderTaskEnded = defineEvent(
  'JobProviderTaskEnded',
  1,
  z.strictObject({ reason: z.enum(['canceled_at_provider', 'finished_at_provider', 'deadline_passed', 'not_started']), at }),
);

/**
 * The provider accepted a submit whose job had been canceled while the call ran (or while the
 * acceptance was unrecorded, found again by our key after a crash). The job stays canceled; the
 * task is real, though, and counts against the account's limit until JobProviderTaskEnded.
 */
export const JobProviderAcceptedAfterCancel = defineEvent(
  'JobProviderAcceptedAfterCancel',
  1,
  z.strictObject({ provider: z.string(), providerTaskId: z.string(), at }),
);

/**
 * A succeeded job's video file was deleted: its retention period ended (`retention`, polling's
 * sweep) or its owner asked (`user`). The job stays succeeded; its content answers 410 from now on.
 */
export const JobOutputDeleted = defineEvent('JobOutputDeleted', 1, z.strictObject({ reason: z.enum(['retention', 'user']), at }));

export const JOB_EVENTS = [
  JobSubmitted,
  JobValidationStarted,
  JobValidated,
  JobSubmissionIntended,
  JobSubmissionRetryScheduled,
  JobProviderAccepted,
  JobProgressed,
  JobDelayed,
  JobSucceeded,
  JobFailed,
  JobCanceled,
  JobProviderTaskEnded,
  JobProviderAcceptedAfterCancel,
  JobOutputDeleted,
] as const;
