import { z } from 'zod';
import { ApiError } from '../api/api-error';
import { JobWebhookDeliveries, RotateWebhookSecretRequest, WebhookSecret, WebhookTestResult } from '../api/gateway-responses';
import { SubmitJobRequest } from '../api/submit-job-request';
import { Job } from '../job/job';

/** Gateway → intake over NATS request/reply: the caller waits for the job or a refusal. */
export const SubmitJobCommand = z.strictObject({
  userId: z.string(),
  request: SubmitJobRequest,
  idempotencyKey: z.string().min(1).max(255).optional(),
  /** The job this one generates again (`POST /v1/jobs/{id}/regenerate`); the gateway checked that the user owns it. */
  parentJobId: z.string().optional(),
  correlationId: z.string(),
  traceparent: z.string().optional(),
});
export type SubmitJobCommand = z.infer<typeof SubmitJobCommand>;

export const CancelJobCommand = z.strictObject({
  userId: z.string(),
  jobId: z.string(),
  correlationId: z.string(),
  traceparent: z.string().optional(),
});
export type CancelJobCommand = z.infer<typeof CancelJobCommand>;

/** Deletes a succeeded job's video file at its owner's request (`DELETE /v1/jobs/{id}/output`). */
export const DeleteJobOutputCommand = CancelJobCommand;
export type DeleteJobOutputCommand = CancelJobCommand;

/** A request/reply answer: what was asked for, or a refusal as an API error. */
const replyOf = <S extends z.core.$ZodLooseShape>(success: S) =>
  z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), ...success }), z.object({ ok: z.literal(false), error: ApiError })]);

export const CommandReply = replyOf({ job: Job });
export type CommandReply = z.infer<typeof CommandReply>;

/** Gateway → notification: the webhook deliveries of a job the gateway checked the user owns. */
export const ListWebhookDeliveriesQuery = z.strictObject({ userId: z.string(), jobId: z.string(), traceparent: z.string().optional() });
export type ListWebhookDeliveriesQuery = z.infer<typeof ListWebhookDeliveriesQuery>;

export const WebhookDeliveriesReply = replyOf({ deliveries: JobWebhookDeliveries });
export type WebhookDeliveriesReply = z.infer<typeof WebhookDeliveriesReply>;

/** Gateway → notification: send one signed test event to `url` now, as the user's webhooks are sent. */
export const TestWebhookCommand = z.strictObject({ userId: z.string(), url: z.string(), traceparent: z.string().optional() });
export type TestWebhookCommand = z.infer<typeof TestWebhookCommand>;

export const WebhookTestReply = replyOf({ result: WebhookTestResult });
export type WebhookTestReply = z.infer<typeof WebhookTestReply>;

/** Gateway → notification: the user's webhook signing secret as notification signs with it now. */
export const WebhookSecretQuery = z.strictObject({ userId: z.string(), traceparent: z.string().optional() });
export type WebhookSecretQuery = z.infer<typeof WebhookSecretQuery>;

/** Gateway → notification: replace the user's webhook signing secret (`POST /v1/webhooks/secret/rotate`). */
export const RotateWebhookSecretCommand = RotateWebhookSecretRequest.extend({ userId: z.string(), traceparent: z.string().optional() });
export type RotateWebhookSecretCommand = z.infer<typeof RotateWebhookSecretCommand>;

export const WebhookSecretReply = replyOf({ secret: WebhookSecret });
export type WebhookSecretReply = z.infer<typeof WebhookSecretReply>;

/** Core-NATS subjects of the request/reply commands (kept outside the JetStream event subjects). */
export const commandSubjects = (prefix: string) => ({
  submitJob: `${prefix}.cmd.submit-job`,
  cancelJob: `${prefix}.cmd.cancel-job`,
  deleteJobOutput: `${prefix}.cmd.delete-job-output`,
  providerCallback: `${prefix}.cmd.provider-callback`,
  webhookDeliveries: `${prefix}.cmd.webhook-deliveries`,
  webhookTest: `${prefix}.cmd.webhook-test`,
  webhookSecret: `${prefix}.cmd.webhook-secret`,
  rotateWebhookSecret: `${prefix}.cmd.webhook-secret-rotate`,
});

/** Core-NATS subject of live job updates pushed to the gateway's SSE clients. */
export const liveJobSubject = (prefix: string, jobId: string) => `${prefix}.live.job.${jobId}`;
