import { z } from 'zod';

export const JobOutput = z.strictObject({
  url: z.string(),
  contentType: z.string(),
  bytes: z.number().int().positive(),
  durationSeconds: z.number().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  sha256: z.string(),
});
export type JobOutput = z.infer<typeof JobOutput>;
