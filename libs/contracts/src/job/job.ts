import { z } from 'zod';
import { JobErrorCode } from './error-code';
import { JobStatus } from './job-status';
import { AspectRatio, JobMetadata, Resolution } from './job-settings';
import { PublicJobOutput } from './job-output';

/**
 * When an unfinished job is likely to be ready, from how long the model's recent succeeded jobs took
 * from submit to done: half were done by `readyByP50`, nine in ten by `readyByP90`. Times in the past
 * mean the job is taking longer than usual. Not part of the job's version.
 */
export const JobEstimate = z.object({ readyByP50: z.string(), readyByP90: z.string(), basedOnJobs: z.number().int() });
export type JobEstimate = z.infer<typeof JobEstimate>;

/**
 * Where to go next with a job, as paths under the API's base URL: each link is there only while its
 * route can do something for the job (`stream` and `cancel` while it is unfinished, `content` while
 * it has a video).
 */
export const JobLinks = z.object({
  self: z.string(),
  events: z.string(),
  stream: z.string().optional(),
  cancel: z.string().optional(),
  content: z.string().optional(),
  /** A still of the video (WebP), while there is a video. */
  poster: z.string().optional(),
  regenerate: z.string(),
});
export type JobLinks = z.infer<typeof JobLinks>;

/**
 * Where a job that has not started stands: how many jobs of its model, anyone's, were submitted
 * before it and have not started either (at most JOBS_AHEAD_MAX), as the job list showed a moment
 * ago. Providers take them roughly in that order. Not part of the job's version.
 */
export const JobQueue = z.object({ jobsAhead: z.number().int().nonnegative() });
export type JobQueue = z.infer<typeof JobQueue>;
export const JOBS_AHEAD_MAX = 1_000;

/**
 * Only on a canceled job: what became of the work at the provider, which a cancel cannot always
 * stop. `none`: no provider had started the job, so nothing was generated (also once a provider
 * reelay can ask by its own key has no task of a job canceled mid-send). `stopping`: a provider
 * is working on it, and reelay has asked it to stop or, where the provider cannot stop a task,
 * follows it until it ends. `stopped`: the provider stopped it. `ended`: it ended at the provider
 * before it could be stopped (generated, or failed there); reelay does not keep its video.
 * `unknown`: reelay cannot tell whether a provider started it: the cancel came while the job was
 * being sent (or between two tries of sending it), or the task was followed until the job's
 * deadline without an end. A change of it is a
 * new `version` of the job, but not a status change (no webhook).
 */
/** Why reelay canceled a job itself (a cancel its owner asked for has none). */
export const JobCancelReason = z.enum(['deadline']);

export const JobCancellation = z.object({
  providerTask: z.enum(['none', 'stopping', 'stopped', 'ended', 'unknown']),
  /** `deadline`: reelay canceled the job, unfinished at its `cancelAt`; absent: you asked. */
  reason: JobCancelReason.optional(),
});
export type JobCancellation = z.infer<typeof JobCancellation>;

/**
 * The reference image reelay sent instead of the one the job names, when that one was outside what
 * the model takes (see the model's `referenceImageLimits`): an image of the user's, scaled, and
 * `cropped` when its edges were cut to bring its shape within them.
 */
export const ReferenceImageFitted = z.object({ assetId: z.string(), width: z.number().int(), height: z.number().int(), cropped: z.boolean() });
export type ReferenceImageFitted = z.infer<typeof ReferenceImageFitted>;

/** The job as clients see it (docs/api.md, "The job object"). */
export const Job = z.object({
  id: z.string(),
  object: z.literal('video.job'),
  status: JobStatus,
  message: z.string(),
  errorCode: JobErrorCode.nullable(),
  /**
   * Only on a failed job: whether submitting the same request again (regenerate) can succeed, the
   * provider's trouble being passing (`true`), or only after a change to the request (`false`).
   */
  retryable: z.boolean().optional(),
  model: z.string(),
  provider: z.string().nullable(),
  prompt: z.string(),
  negativePrompt: z.string().nullable(),
  aspectRatio: AspectRatio,
  durationSeconds: z.number(),
  resolution: Resolution.nullable(),
  seed: z.number().int().nullable(),
  referenceImage: z.union([z.object({ assetId: z.string() }), z.object({ url: z.string() })]).nullable(),
  /** Only when the submit set one: the deadline as asked, and when it falls (`createdAt` plus it); an unfinished job is canceled then. */
  cancelAfterSeconds: z.number().int().optional(),
  cancelAt: z.string().optional(),
  /** Only when reelay fitted the reference image to the model: what it sent instead (once the job is validated). */
  referenceImageFitted: ReferenceImageFitted.optional(),
  progress: z.number().int().min(0).max(100).nullable(),
  output: PublicJobOutput.nullable(),
  credits: z.object({ estimated: z.number(), charged: z.number().nullable() }),
  webhookUrl: z.string().nullable(),
  /** Only when the submit named them: the only event types sent to `webhookUrl`. */
  webhookEvents: z.array(z.string()).optional(),
  metadata: JobMetadata,
  createdAt: z.string(),
  updatedAt: z.string(),
  /**
   * When a provider accepted the job and it began to run: from `createdAt` to here it waited
   * (checks, a free place at the provider), from here to `completedAt` it was generated. Absent
   * before that.
   */
  startedAt: z.string().optional(),
  completedAt: z.string().nullable(),
  /** Goes up with every change a client can see; the ETag and the SSE event id. */
  version: z.number().int(),
  /** Only on a job made by `POST /v1/jobs/{id}/regenerate`: the job it generates again. */
  parentJobId: z.string().optional(),
  /** Set on every job this release serves (optional for jobs recorded by older ones). */
  links: JobLinks.optional(),
  /** Only on a canceled job (see JobCancellation); in the job list, absent on jobs canceled by older releases until job_view is rebuilt. */
  cancellation: JobCancellation.optional(),
  /** Only on `GET /v1/jobs/{id}` of an unfinished job whose model has enough history. */
  estimate: JobEstimate.optional(),
  /** Only on `GET /v1/jobs/{id}` of a job that has not started (queued or validating). */
  queue: JobQueue.optional(),
});
export type Job = z.infer<typeof Job>;
