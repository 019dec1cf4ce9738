import type { ApiErrorCode, CommandReply, ErrorDetail, Job } from '@reelay/contracts';

export const ok = (job: Job): CommandReply => ({ ok: true, job });

export const refuse = (code: ApiErrorCode, message: string, details?: ErrorDetail[]): CommandReply => ({
  ok: false,
  error: details ? { code, message, details } : { code, message },
});
