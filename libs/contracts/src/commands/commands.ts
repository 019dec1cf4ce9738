import { z } from 'zod';
import { ApiError } from '../api/api-error';
import { JobWebhookDeliveries } from '../api/gateway-responses';
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

export const CommandReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), job: Job }),
  z.object({ ok: z.literal(false), error: ApiError }),
]);
export type CommandReply = z.infer<typeof CommandReply>;

/** Gateway → notification: the webhook deliveries of a job the gateway checked the user owns. */
export const ListWebhookDeliveriesQuery = z.strictObject({ userId: z.string(), jobId: z.string(), traceparent: z.string().optional() });
export type ListWebhookDeliveriesQuery = z.infer<typeof ListWebhookDeliveriesQuery>;

export const WebhookDeliveriesReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), deliveries: JobWebhookDeliveries }),
  z.object({ ok: z.literal(false), error: ApiError }),
]);
export type WebhookDeliveriesReply = z.infer<typeof WebhookDeliveriesReply>;

/** Core-NATS subjects of the request/reply commands (kept outside the JetStream event subjects). */
export const commandSubjects = (prefix: string) => ({
  submitJob: `${prefix}.cmd.submit-job`,
  cancelJob: `${prefix}.cmd.cancel-job`,
  deleteJobOutput: `${prefix}.cmd.delete-job-output`,
  providerCallback: `${prefix}.cmd.provider-callback`,
  webhookDeliveries: `${prefix}.cmd.webhook-deliveries`,
});

/** Core-NATS subject of live job updates pushed to the gateway's SSE clients. */
export const liveJobSubject = (prefix: string, jobId: string) => `${prefix}.live.job.${jobId}`;
