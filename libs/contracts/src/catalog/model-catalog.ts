import { z } from 'zod';
import { AspectRatio, Resolution } from '../job/job-settings';

/**
 * What the model's provider takes as a reference image, beyond reelay's own limits. An image outside
 * them is fitted at validation (scaled, and center-cropped where its shape is out of bounds); the job
 * then shows `referenceImageFitted`.
 */
export const ReferenceImageLimits = z.strictObject({
  /** Each side, in pixels, at least / at most. */
  minSide: z.number().int().positive().optional(),
  maxSide: z.number().int().positive().optional(),
  /** Width divided by height must lie strictly between these (providers state open bounds). */
  minAspect: z.number().positive().optional(),
  maxAspect: z.number().positive().optional(),
  /** A `referenceImage.url` must be https (the provider fetches it itself and refuses http). */
  httpsOnly: z.boolean().optional(),
  /** The image must be exactly the video's size, which depends on the job's aspect ratio. */
  exactSizes: z.array(z.strictObject({ aspectRatio: AspectRatio, width: z.number().int().positive(), height: z.number().int().positive() })).optional(),
});
export type ReferenceImageLimits = z.infer<typeof ReferenceImageLimits>;

export const CatalogModel = z.strictObject({
  id: z.string(),
  provider: z.string(),
  /** Other providers that serve the same model, in failover order. */
  alternates: z.array(z.string()).default([]),
  durations: z.array(z.number().int().positive()).min(1),
  aspectRatios: z.array(AspectRatio).min(1),
  resolutions: z.array(Resolution).min(1),
  imageToVideo: z.boolean(),
  /** False for a model that makes video from an image only: a job on it needs `referenceImage`. */
  textToVideo: z.boolean(),
  creditsPerSecond: z.number().int().nonnegative(),
  /** The longest prompt the model takes, in UTF-16 code units (JavaScript string length); absent: the API's own limit. */
  maxPromptLength: z.number().int().positive().optional(),
  referenceImageLimits: ReferenceImageLimits.optional(),
  /** The day (UTC, YYYY-MM-DD) from which its provider has announced it will no longer serve the model; absent: none announced. */
  retiresOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
});
export type CatalogModel = z.infer<typeof CatalogModel>;
