import { z } from 'zod';

export const JobOutput = z.strictObject({
  url: z.string(),
  contentType: z.string(),
  bytes: z.number().int().positive(),
  durationSeconds: z.number().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  sha256: z.string(),
  /** When reelay deletes the file (OUTPUT_RETENTION_DAYS at the time it was stored); absent: kept until deleted on purpose. */
  expiresAt: z.iso.datetime().optional(),
});
export type JobOutput = z.infer<typeof JobOutput>;

/** The output as clients see it: `expiresAt` null when no retention applies, `deletedAt` once the file is gone. */
export const PublicJobOutput = JobOutput.extend({ expiresAt: z.string().nullable(), deletedAt: z.string().nullable() });
export type PublicJobOutput = z.infer<typeof PublicJobOutput>;
