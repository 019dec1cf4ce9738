import { z } from 'zod';

export const AspectRatio = z.enum(['16:9', '9:16', '1:1']);
export type AspectRatio = z.infer<typeof AspectRatio>;

export const Resolution = z.enum(['480p', '720p', '1080p']);
export type Resolution = z.infer<typeof Resolution>;

/** An uploaded image's id (POST /v1/assets). */
export const AssetId = z.string().regex(/^asset_[A-Za-z0-9]{8,40}$/, 'must be an asset id like asset_...');

export const ReferenceImage = z.union([
  z.strictObject({ assetId: AssetId }),
  z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) }),
]);
export type ReferenceImage = z.infer<typeof ReferenceImage>;

/**
 * What a job's webhook can be sent: one type per status entered, the deletion of its video, and a
 * change of a canceled job's `cancellation` after the cancel (what the provider did with the task).
 */
export const WebhookEventType = z.enum([
  'video.job.queued',
  'video.job.validating',
  'video.job.running',
  'video.job.delayed',
  'video.job.succeeded',
  'video.job.failed',
  'video.job.canceled',
  'video.job.output_deleted',
  'video.job.cancellation_updated',
]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The webhook event types a job's `webhookUrl` is sent; all of them when not given. */
export const WebhookEvents = z
  .array(WebhookEventType)
  .min(1)
  .max(WebhookEventType.options.length)
  .refine((types) => new Set(types).size === types.length, 'list each event type once');

/**
 * zod's record parser drops a `__proto__` key without a word, so it is refused before it gets
 * there: a key the client sent must be kept or named in a 400, never silently lost.
 */
export const JobMetadata = z.preprocess(
  (value, ctx) => {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', message: '__proto__ cannot be a metadata key', path: ['__proto__'], input: value });
    }
    return value;
  },
  z.record(z.string().min(1).max(64), z.string().max(512)).refine((m) => Object.keys(m).length <= 16, 'at most 16 keys'),
);
export type JobMetadata = z.infer<typeof JobMetadata>;
