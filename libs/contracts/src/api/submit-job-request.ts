import { z } from 'zod';
import { AspectRatio, JobMetadata, ReferenceImage, Resolution, WebhookEvents } from '../job/job-settings';

/** The longest deadline a job may be given: 6 days, within the week JetStream keeps an event. */
export const MAX_CANCEL_AFTER_SECONDS = 6 * 24 * 3600;

export const SubmitJobRequest = z
  .strictObject({
    model: z.string().min(1).max(100),
    prompt: z
      .string()
      .max(4000, 'Prompt must be at most 4000 characters.')
      .refine((p) => p.trim().length > 0, 'Prompt must not be empty.'),
    aspectRatio: AspectRatio,
    durationSeconds: z.number().int('Duration must be a whole number of seconds.').min(1).max(60),
    resolution: Resolution.optional(),
    seed: z.number().int().min(0).max(4294967295).optional(),
    negativePrompt: z.string().max(2000).optional(),
    referenceImage: ReferenceImage.optional(),
    webhookUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    /** Only these events are sent to `webhookUrl` (e.g. just `video.job.succeeded` and `video.job.failed`). */
    webhookEvents: WebhookEvents.optional(),
    metadata: JobMetadata.optional(),
    /**
     * A deadline: if the job has not finished this many seconds after it was submitted, reelay
     * cancels it (asking the provider to stop, releasing its credits) and says why.
     */
    cancelAfterSeconds: z.number().int('cancelAfterSeconds must be a whole number of seconds.').min(1).max(MAX_CANCEL_AFTER_SECONDS).optional(),
  })
  .refine((r) => !r.webhookEvents || r.webhookUrl, { message: 'webhookEvents needs a webhookUrl to send them to', path: ['webhookEvents'] })
  // A job given up at its deadline ends `canceled`: a webhook that leaves that out would never hear how the job ended.
  .refine((r) => r.cancelAfterSeconds === undefined || !r.webhookEvents || r.webhookEvents.includes('video.job.canceled'), {
    message: 'a job with cancelAfterSeconds may end canceled at its deadline: add video.job.canceled to webhookEvents, or leave webhookEvents out',
    path: ['webhookEvents'],
  });
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;

/**
 * The optional body of `POST /v1/jobs/{id}/regenerate`: settings to change from the job repeated
 * (another prompt; another model, so another provider; another length, shape, resolution, seed or reference image). `null` drops a
 * setting: the seed (the provider picks a new one), the resolution (the model's default) or the
 * reference image (text to video), the deadline (none). Everything else is the repeated job's.
 */
export const RegenerateJobRequest = z
  .strictObject({
    prompt: SubmitJobRequest.shape.prompt,
    model: SubmitJobRequest.shape.model,
    durationSeconds: SubmitJobRequest.shape.durationSeconds,
    aspectRatio: AspectRatio,
    resolution: Resolution.nullable(),
    seed: SubmitJobRequest.shape.seed.unwrap().nullable(),
    referenceImage: ReferenceImage.nullable(),
    cancelAfterSeconds: SubmitJobRequest.shape.cancelAfterSeconds.unwrap().nullable(),
  })
  .partial();
export type RegenerateJobRequest = z.infer<typeof RegenerateJobRequest>;

export const ListJobsQuery = z.strictObject({
  status: z.enum(['queued', 'validating', 'running', 'delayed', 'succeeded', 'failed', 'canceled']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  /** Only jobs whose `metadata` holds every given key with that value, written `metadata[orderId]=A1`. */
  metadata: JobMetadata.optional().describe('Only jobs whose metadata holds every given key with that value: metadata[orderId]=A1&metadata[shot]=3'),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

/** `POST /v1/jobs/cancel`: cancel the caller's unfinished jobs whose metadata holds every given pair. */
export const CancelJobsRequest = z.strictObject({
  metadata: JobMetadata.refine((m) => Object.keys(m).length > 0, 'name at least one metadata key'),
  /** The `nextCursor` of an earlier answer: go on after the jobs it covered (those not canceled included). */
  cursor: z.string().max(512).optional(),
});
export type CancelJobsRequest = z.infer<typeof CancelJobsRequest>;

/**
 * `POST /v1/jobs/regenerate-failed`: generate again the caller's failed jobs whose metadata holds
 * every given pair and that were not generated again yet.
 */
export const RegenerateFailedRequest = z.strictObject({
  metadata: JobMetadata.refine((m) => Object.keys(m).length > 0, 'name at least one metadata key'),
  /** Only jobs whose failure a new try may get past (`retryable`), by default; false takes every failed one. */
  retryableOnly: z.boolean().default(true),
  /** The `nextCursor` of an earlier answer: go on after the jobs it covered. */
  cursor: z.string().max(512).optional(),
});
export type RegenerateFailedRequest = z.infer<typeof RegenerateFailedRequest>;
