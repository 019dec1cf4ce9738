import type { ConsumerBinding } from '@reelay/messaging';

/**
 * Deliveries back off up to a minute apart; a dead letter here leaves a job queued with its credits
 * held (validation) or a hold never settled (credits), so both ride out an outage of over three
 * hours (200 deliveries) before they give up.
 */
export const intakeConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'intake-validate', filterSubjects: [`${prefix}.events.job.JobSubmitted`], concurrency, maxDeliver: 200 },
  {
    durable: 'intake-credits',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`],
    concurrency,
    maxDeliver: 200,
  },
];
