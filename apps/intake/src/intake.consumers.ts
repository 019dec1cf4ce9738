import type { ConsumerBinding } from '@reelay/messaging';

export const intakeConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'intake-validate', filterSubjects: [`${prefix}.events.job.JobSubmitted`], concurrency, maxDeliver: 8 },
  {
    durable: 'intake-credits',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`],
    concurrency,
    maxDeliver: 10,
  },
];
