import type { Job } from '@reelay/contracts';

/** The outbound webhook body of api.md: `{"type": "video.job.<status>", "data": <job>}`. */
export const webhookEventType = (job: Job) => `video.job.${job.status}`;

export const webhookBody = (job: Job) => JSON.stringify({ type: webhookEventType(job), data: job });
