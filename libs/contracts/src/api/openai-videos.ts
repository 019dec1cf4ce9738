import { z } from 'zod';
import { SubmitJobRequest } from './submit-job-request';

/** OpenAI Videos API wire shapes (`/v1/videos`), as the official `openai` SDK reads and sends them. */

export const OpenAIVideoStatus = z.enum(['queued', 'in_progress', 'completed', 'failed']);
export type OpenAIVideoStatus = z.infer<typeof OpenAIVideoStatus>;

export const OpenAIVideoError = z.object({ code: z.string(), message: z.string() });

export const OpenAIVideo = z.object({
  id: z.string(),
  object: z.literal('video'),
  created_at: z.number().int().describe('Unix seconds'),
  completed_at: z.number().int().nullable(),
  expires_at: z.number().int().nullable().describe('From when the video file may be deleted (OUTPUT_RETENTION_DAYS when it was stored); null when reelay keeps it until it is deleted on purpose'),
  model: z.string(),
  progress: z.number().int().min(0).max(100),
  seconds: z.string().describe('Duration in whole seconds, as a string'),
  size: z.string().describe('WIDTHxHEIGHT, e.g. 1280x720'),
  status: OpenAIVideoStatus,
  error: OpenAIVideoError.nullable(),
  prompt: z.string().nullable(),
  remixed_from_video_id: z.string().nullable(),
});
export type OpenAIVideo = z.infer<typeof OpenAIVideo>;

export const OpenAIVideoList = z.object({
  object: z.literal('list'),
  data: z.array(OpenAIVideo),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});
export type OpenAIVideoList = z.infer<typeof OpenAIVideoList>;

export const OpenAIVideoDeleted = z.object({
  id: z.string(),
  object: z.literal('video.deleted'),
  deleted: z.boolean(),
});
export type OpenAIVideoDeleted = z.infer<typeof OpenAIVideoDeleted>;

export const OpenAIError = z.object({
  message: z.string(),
  type: z.string(),
  param: z.string().nullable(),
  code: z.string().nullable(),
});
export const OpenAIErrorEnvelope = z.object({ error: OpenAIError });
export type OpenAIErrorEnvelope = z.infer<typeof OpenAIErrorEnvelope>;

export const OpenAIImageReference = z
  .strictObject({
    image_url: z.string().max(20_971_520).optional().describe('An http(s) URL or a base64 data: URL of a PNG, JPEG or WebP image'),
    file_id: z.string().max(100).optional().describe('An asset id from POST /v1/assets'),
  })
  .refine((r) => (r.image_url === undefined) !== (r.file_id === undefined), 'give exactly one of image_url and file_id');

const createFields = {
  prompt: z
    .string()
    .max(4000, 'Prompt must be at most 4000 characters.')
    .refine((p) => p.trim().length > 0, 'Prompt must not be empty.'),
  model: z.string().min(1).max(100).optional().describe('A reelay model id from GET /v1/models (sora-2, sora-2-pro and their dated names are mapped when offered)'),
  seconds: z
    .string()
    .regex(/^[1-9][0-9]?$/, 'seconds must be a whole number of seconds written as a string, e.g. "4".')
    .optional()
    .describe('Default "4"'),
  size: z
    .string()
    .regex(/^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$/, 'size must be WIDTHxHEIGHT, e.g. "1280x720".')
    .optional()
    .describe('Default "720x1280"'),
};

/** POST /v1/videos as JSON. */
export const OpenAICreateVideoJson = z.strictObject({ ...createFields, input_reference: OpenAIImageReference.optional() });
export type OpenAICreateVideoJson = z.infer<typeof OpenAICreateVideoJson>;

/** POST /v1/videos/{id}/remix: a completed video again with another prompt (the rest as it was). */
export const OpenAIRemixVideo = z.strictObject({ prompt: SubmitJobRequest.shape.prompt.describe('The new prompt') });
export type OpenAIRemixVideo = z.infer<typeof OpenAIRemixVideo>;

/** POST /v1/videos as multipart/form-data (the form the openai SDK sends since v6.28). */
export const OpenAICreateVideoMultipart = z.strictObject({
  ...createFields,
  input_reference: z.file().optional().describe('A PNG, JPEG or WebP image (also accepted: input_reference[image_url], input_reference[file_id])'),
});

export const OpenAIListVideosQuery = z.strictObject({
  after: z.string().max(100).optional().describe('The id of the last video of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc').describe('By creation time'),
});
export type OpenAIListVideosQuery = z.infer<typeof OpenAIListVideosQuery>;

export const OpenAIVideoContentQuery = z.strictObject({
  variant: z.enum(['video', 'thumbnail', 'spritesheet']).default('video').describe('"video" (the MP4) or "thumbnail" (a WebP still); "spritesheet" is not offered'),
});
