import type { AspectRatio, JobErrorCode, JobEvent, JobMetadata, JobOutput, JobStatus, ReferenceImage, Resolution } from '@reelay/contracts';
import type { ValidatedImage } from './job-commands';

export type ProviderTaskEndReason = Extract<JobEvent, { type: 'JobProviderTaskEnded' }>['data']['reason'];

export interface SubmissionIntent {
  provider: string;
  attempt: number;
  submissionKey: string;
}

export interface JobState {
  exists: boolean;
  jobId: string;
  userId: string;
  status: JobStatus;
  validated: boolean;
  errorCode: JobErrorCode | null;
  failureMessage: string | null;
  model: string;
  provider: string | null;
  prompt: string;
  negativePrompt: string | null;
  aspectRatio: AspectRatio;
  durationSeconds: number;
  resolution: Resolution | null;
  seed: number | null;
  referenceImage: ReferenceImage | null;
  /** The reference image fitted to the model at validation, sent to providers instead; null when the job's own image suits the model. */
  referenceImageFitted: NonNullable<ValidatedImage>['fitted'] | null;
  webhookUrl: string | null;
  /** The event types its webhook is sent; null: all of them. */
  webhookEvents: string[] | null;
  metadata: JobMetadata;
  requestHash: string;
  /** The job this one generates again (regenerate), if any. */
  parentJobId: string | null;
  /** Its deadline as submitted: canceled if unfinished this long after `createdAt`; null: none. */
  cancelAfterSeconds: number | null;
  /** Canceled by reelay at its deadline (rather than by its owner). */
  canceledAtDeadline: boolean;
  creditsEstimated: number;
  creditsCharged: number | null;
  progress: number | null;
  output: JobOutput | null;
  /** When the output's file was deleted (retention or its owner); the job stays succeeded. */
  outputDeletedAt: string | null;
  intent: SubmissionIntent | null;
  submissionAttempts: number;
  /** Refused tries recorded (JobSubmissionRetryScheduled), over every provider: which answer a retry command follows. */
  submissionRetries: number;
  /** The provider the last refused try sent the job on to (its next intent must be there); null once intended. */
  failoverTo: string | null;
  providerTaskId: string | null;
  /** A provider task was accepted and nothing in the log says it is over (a cancel does not stop every provider's task). */
  providerTaskOpen: boolean;
  /** Failed with its last submit unanswered at a provider that cannot be asked again: a task made by it may run. */
  providerTaskMayExist: boolean;
  /** How a canceled job's provider task ended, once the log says it has (JobProviderTaskEnded). */
  providerTaskEnd: ProviderTaskEndReason | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** When a provider first accepted the job (it began to run); null before. */
  startedAt: string | null;
  completedAt: string | null;
  /**
   * Events folded into this state, which is the job stream's version (streams are numbered from 1)
   * and the public job's `version`, its ETag and SSE id: every job event is a new version.
   */
  eventsFolded: number;
}

export const initialJobState = (): JobState => ({
  exists: false,
  jobId: '',
  userId: '',
  status: 'queued',
  validated: false,
  errorCode: null,
  failureMessage: null,
  model: '',
  provider: null,
  prompt: '',
  negativePrompt: null,
  aspectRatio: '16:9',
  durationSeconds: 0,
  resolution: null,
  seed: null,
  referenceImage: null,
  referenceImageFitted: null,
  cancelAfterSeconds: null,
  canceledAtDeadline: false,
  webhookUrl: null,
  webhookEvents: null,
  metadata: {},
  requestHash: '',
  parentJobId: null,
  creditsEstimated: 0,
  creditsCharged: null,
  progress: null,
  output: null,
  outputDeletedAt: null,
  intent: null,
  submissionAttempts: 0,
  submissionRetries: 0,
  failoverTo: null,
  providerTaskId: null,
  providerTaskOpen: false,
  providerTaskMayExist: false,
  providerTaskEnd: null,
  createdAt: null,
  updatedAt: null,
  startedAt: null,
  completedAt: null,
  eventsFolded: 0,
});

/** Canceled after a submit was intended, with no task recorded: the submit's answer is not in the log. */
export const canceledWithUnansweredSubmit = (job: JobState): job is JobState & { intent: SubmissionIntent; providerTaskId: null } =>
  job.status === 'canceled' && job.intent !== null && job.providerTaskId === null && job.providerTaskEnd !== 'not_started';

/**
 * A finished job whose provider may still count a task of it against the account's limit:
 * - canceled, with a task accepted and not yet seen to end, or a submit whose answer is not in the
 *   log (the call still running, or its outcome lost in a crash). Dispatch settles the second kind
 *   when it records the answer, or when its redelivery looks the task up by our key;
 * - failed because a submit's answer was lost at a provider that cannot be asked again. Nothing
 *   will tell when such a task ends, so only the slot sweep's bound frees it.
 */
export const mayHoldProviderTask = (job: JobState): boolean =>
  (job.status === 'canceled' && job.providerTaskOpen) ||
  canceledWithUnansweredSubmit(job) ||
  (job.status === 'failed' && job.providerTaskMayExist);

/** When an unfinished job with a deadline is canceled: `createdAt` plus its `cancelAfterSeconds`; null without one. */
export function cancelAt(state: Pick<JobState, 'createdAt' | 'cancelAfterSeconds'>): Date | null {
  if (state.cancelAfterSeconds === null || !state.createdAt) return null;
  return new Date(Date.parse(state.createdAt) + state.cancelAfterSeconds * 1000);
}

/**
 * How long past its deadline a job running at a provider is left to the check polling makes at the
 * deadline, before it is canceled unchecked. A video the provider finished before the deadline is
 * only seen at a check (every minute once `delayed`), and canceling the job first would throw it
 * away; the grace covers polling being down or behind, and an output copy started at that check.
 */
export const DEADLINE_CHECK_GRACE_MS = 15 * 60_000;

/**
 * When a deadline cancel that did not ask the provider may be made: at `cancelAt` for a job no
 * provider has accepted yet, DEADLINE_CHECK_GRACE_MS later for one running at a provider.
 */
export function deadlineCancelDue(state: Pick<JobState, 'createdAt' | 'cancelAfterSeconds' | 'status' | 'providerTaskId'>): Date | null {
  const deadline = cancelAt(state);
  if (!deadline) return null;
  const atProvider = (state.status === 'running' || state.status === 'delayed') && state.providerTaskId !== null;
  return atProvider ? new Date(deadline.getTime() + DEADLINE_CHECK_GRACE_MS) : deadline;
}
