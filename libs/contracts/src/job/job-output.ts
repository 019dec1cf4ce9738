import { z } from 'zod';

export const JobOutput = z.strictObject({
  url: z.string(),
  contentType: z.string(),
  bytes: z.number().int().positive(),
  durationSeconds: z.number().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  sha256: z.string(),
  /** From when reelay may delete the file (OUTPUT_RETENTION_DAYS when it was stored); absent: kept until deleted on purpose. */
  expiresAt: z.iso.datetime().optional(),
});
export type JobOutput = z.infer<typeof JobOutput>;

/** A setting the delivered video does not match (what was asked, what the file has). */
export const OutputDifference = z.object({
  field: z.enum(['durationSeconds', 'resolution', 'aspectRatio']),
  requested: z.union([z.string(), z.number()]),
  delivered: z.union([z.string(), z.number()]),
});
export type OutputDifference = z.infer<typeof OutputDifference>;

/**
 * The output as clients see it: `deletedAt` once its file is gone; `differsFromRequest` when the
 * file's duration, resolution or shape is not what the job asked for (absent when it is).
 */
export const PublicJobOutput = JobOutput.extend({ deletedAt: z.iso.datetime().optional(), differsFromRequest: z.array(OutputDifference).optional() });
export type PublicJobOutput = z.infer<typeof PublicJobOutput>;
