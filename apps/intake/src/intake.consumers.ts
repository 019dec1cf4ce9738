import { OUTAGE_TOLERANT_DELIVERIES, type ConsumerBinding } from '@reelay/messaging';

/** A dead letter here would leave a job queued with its credits held, or a hold never settled. */
export const intakeConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'intake-validate', filterSubjects: [`${prefix}.events.job.JobSubmitted`], concurrency, maxDeliver: OUTAGE_TOLERANT_DELIVERIES },
  {
    durable: 'intake-credits',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`],
    concurrency,
    maxDeliver: OUTAGE_TOLERANT_DELIVERIES,
  },
];
