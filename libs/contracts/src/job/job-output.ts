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

/** The output as clients see it: `deletedAt` once its file is gone (absent before). */
export const PublicJobOutput = JobOutput.extend({ deletedAt: z.iso.datetime().optional() });
export type PublicJobOutput = z.infer<typeof PublicJobOutput>;
