import { z } from 'zod';
import { CatalogModel } from '../catalog/model-catalog';
import { JobErrorCode } from '../job/error-code';
import { Job } from '../job/job';
import { JobStatus } from '../job/job-status';

/** Response bodies of the gateway's own routes (api.md "Routes"), besides the Job itself. */

export const JobList = z.object({ data: z.array(Job), nextCursor: z.string().nullable() });
export type JobList = z.infer<typeof JobList>;

/** One event of a job's history, with the status and message the job had after it, plus public event fields. */
export const JobHistoryEntry = z
  .object({
    sequence: z.number().int(),
    type: z.string(),
    at: z.string(),
    status: JobStatus,
    message: z.string(),
    errorCode: JobErrorCode.nullable(),
    progress: z.number().int().nullable(),
  })
  .catchall(z.unknown());
export type JobHistoryEntry = z.infer<typeof JobHistoryEntry>;

export const JobHistory = z.object({ data: z.array(JobHistoryEntry) });

export const UploadedAsset = z.object({
  id: z.string(),
  contentType: z.enum(['image/png', 'image/jpeg', 'image/webp']),
  bytes: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});
export type UploadedAsset = z.infer<typeof UploadedAsset>;

export const PublicModel = CatalogModel.omit({ alternates: true });
export const ModelList = z.object({ data: z.array(PublicModel) });
export type ModelList = z.infer<typeof ModelList>;

export const WebhookSecret = z.object({ secret: z.string() });

export const HealthLive = z.object({ status: z.literal('ok') });
export const HealthReady = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['up', 'down'])) });
