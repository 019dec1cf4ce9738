import { z } from 'zod';
import { CatalogModel } from '../catalog/model-catalog';
import { JobErrorCode } from '../job/error-code';
import { Job } from '../job/job';
import { JobStatus } from '../job/job-status';
import { ApiError } from './api-error';

/** Response bodies of the gateway's own routes (docs/api.md, the route table under "Jobs"), besides the Job itself. */

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

/**
 * The user's webhook signing secret. `generation` counts the user's rotations (0: never rotated);
 * after a rotation webhooks are signed under the previous secret too until `previousSecretValidUntil`.
 */
export const WebhookSecret = z.object({
  secret: z.string(),
  generation: z.number().int().nonnegative(),
  rotatedAt: z.string().nullable(),
  previousSecretValidUntil: z.string().nullable(),
});
export type WebhookSecret = z.infer<typeof WebhookSecret>;

/** `POST /v1/webhooks/secret/rotate`: how long webhooks stay signed under the secret being replaced (0: not at all). */
export const RotateWebhookSecretRequest = z.strictObject({
  keepPreviousForSeconds: z.number().int().min(0).max(7 * 86_400).default(86_400),
});
export type RotateWebhookSecretRequest = z.infer<typeof RotateWebhookSecretRequest>;

/** One try of a webhook delivery. */
export const WebhookAttempt = z.object({
  attempt: z.number().int(),
  at: z.string(),
  /** `in_flight` while it runs; `interrupted`: the sending process stopped, and it was tried again. */
  outcome: z.enum(['in_flight', 'delivered', 'http_error', 'timeout', 'network_error', 'refused', 'interrupted']),
  httpStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int().nullable(),
});

/** A status change (or output deletion) of a job, as sent to its `webhookUrl`, with every try. */
export const WebhookDelivery = z.object({
  /** The job version it tells of; `webhook-id` is `msg_<jobId>_v<version>`. */
  version: z.number().int(),
  type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastHttpStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  failedAt: z.string().nullable(),
  attemptLog: z.array(WebhookAttempt),
});

/** `GET /v1/jobs/{id}/webhooks`: what the job's webhook endpoint was sent, oldest first. */
export const JobWebhookDeliveries = z.object({ object: z.literal('list'), data: z.array(WebhookDelivery) });
export type JobWebhookDeliveries = z.infer<typeof JobWebhookDeliveries>;

/** `POST /v1/webhooks/test`: sends one signed test event to `url` now. */
export const TestWebhookRequest = z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) });
export type TestWebhookRequest = z.infer<typeof TestWebhookRequest>;

/** What the test send met: the receiver's answer, as a delivery attempt records it. */
export const WebhookTestResult = z.object({
  object: z.literal('webhook_test'),
  delivered: z.boolean(),
  outcome: WebhookAttempt.shape.outcome,
  httpStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
  /** The `webhook-id` it was sent with (`msg_test_…`). */
  webhookId: z.string(),
});
export type WebhookTestResult = z.infer<typeof WebhookTestResult>;

/** `GET /v1/credits`: the user's credit balance. A submit holds its estimate; the end of the job settles or gives it back. */
export const CreditBalance = z.object({
  object: z.literal('credit_balance'),
  /** What a new submit may hold: granted − spent − held. */
  available: z.number().int(),
  /** Held by unfinished jobs (their estimates). */
  held: z.number().int(),
  /** Granted in all, by the operator. */
  granted: z.number().int(),
  /** Charged for finished jobs. */
  spent: z.number().int(),
  /** Unfinished jobs holding credits. */
  jobsHolding: z.number().int(),
});
export type CreditBalance = z.infer<typeof CreditBalance>;

/** `POST /v1/jobs/{id}/token`: read access to one job without an API key, until `expiresAt`. */
export const JobToken = z.object({
  token: z.string(),
  expiresAt: z.string(),
  /** The job's stream with the token: for an EventSource, from any origin. */
  streamUrl: z.string(),
  /** The job's video with the token: for a `<video src>` (Range works). */
  contentUrl: z.string(),
  /** A still of the video with the token: for a `<video poster>` or an `<img src>`. */
  posterUrl: z.string(),
});
export type JobToken = z.infer<typeof JobToken>;

/** The query a job's stream and content take in lieu of an API key. */
export const JobTokenQuery = z.object({ token: z.string().max(512).optional().describe('A job token (POST /v1/jobs/{id}/token), when no Authorization header is sent') });

/** The optional body of `POST /v1/jobs/{id}/token`. */
export const JobTokenRequest = z.strictObject({ expiresInSeconds: z.number().int().min(60).max(86_400).optional() });
export type JobTokenRequest = z.infer<typeof JobTokenRequest>;

export const HealthLive = z.object({ status: z.literal('ok') });
export const HealthReady = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['up', 'down'])) });

/**
 * What `POST /v1/jobs/cancel` did: the jobs it canceled, those it could not (each with the error a
 * single cancel would have answered), and whether more matching jobs are left for another call.
 */
export const CancelJobsResult = z.object({
  object: z.literal('job_cancel_batch'),
  canceled: z.array(z.string()),
  notCanceled: z.array(z.object({ id: z.string(), error: ApiError })),
  hasMore: z.boolean(),
  /** While `hasMore`: the `cursor` for a call that goes on past this answer's jobs; null otherwise. */
  nextCursor: z.string().nullable(),
});
export type CancelJobsResult = z.infer<typeof CancelJobsResult>;

/**
 * What `POST /v1/jobs/regenerate-failed` did: the new job made for each failed job (`parentJobId`
 * names it), those it could not make (with the error a single regenerate would have answered), and
 * whether more matching jobs are left for another call.
 */
export const RegenerateFailedResult = z.object({
  object: z.literal('job_regenerate_batch'),
  created: z.array(z.object({ parentJobId: z.string(), job: Job })),
  notCreated: z.array(z.object({ parentJobId: z.string(), error: ApiError })),
  hasMore: z.boolean(),
  /** While `hasMore`: the `cursor` for a call that goes on past this answer's jobs; null otherwise. */
  nextCursor: z.string().nullable(),
});
export type RegenerateFailedResult = z.infer<typeof RegenerateFailedResult>;
