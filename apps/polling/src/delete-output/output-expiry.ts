import type { JobOutput } from '@reelay/contracts';

/** The output as `JobSucceeded` records it: with the time its file is deleted, when outputs are not kept for good. */
export function withExpiry(output: JobOutput, succeededAt: Date, retentionMs: number | null): JobOutput {
  return retentionMs === null ? output : { ...output, expiresAt: new Date(succeededAt.getTime() + retentionMs).toISOString() };
}
