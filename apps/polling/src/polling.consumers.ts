import type { ConsumerBinding } from '@reelay/messaging';

export const pollingConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'polling-follow', filterSubjects: [`${prefix}.events.job.JobProviderAccepted`], concurrency, maxDeliver: 10 },
  {
    durable: 'polling-stop',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`],
    concurrency,
    maxDeliver: 10,
  },
];
