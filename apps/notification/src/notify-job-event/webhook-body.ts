import type { JobNotice } from '../shared/job-history';

/** The outbound webhook body of api.md: `{"type": "video.job.<status>" | "video.job.output_deleted" | "video.job.cancellation_updated", "data": <job>}`. */
export const webhookBody = (notice: JobNotice) => JSON.stringify({ type: notice.type, data: notice.job });
