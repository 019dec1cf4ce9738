import { z } from 'zod';

export const JobId = z.string().regex(/^job_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a job id like job_01J...');
export type JobId = z.infer<typeof JobId>;

export const UserId = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/);
export type UserId = z.infer<typeof UserId>;

export const jobStreamId = (jobId: string) => `job-${jobId}`;
export const creditStreamId = (userId: string) => `credits-${userId}`;

export const jobIdFromStreamId = (streamId: string) => (streamId.startsWith('job-') ? streamId.slice(4) : streamId);
