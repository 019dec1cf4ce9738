import { OUTAGE_TOLERANT_DELIVERIES, type ConsumerBinding } from '@reelay/messaging';

export const VALIDATE_CONSUMER = 'intake-validate';
export const CREDITS_CONSUMER = 'intake-credits';

/**
 * A dead letter here would leave a job queued with its credits held, or a hold never settled; the
 * intake sweep (validateUnvalidated, settleDeadLettered) picks such jobs up again.
 */
export const intakeConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: VALIDATE_CONSUMER, filterSubjects: [`${prefix}.events.job.JobSubmitted`], concurrency, maxDeliver: OUTAGE_TOLERANT_DELIVERIES },
  {
    durable: CREDITS_CONSUMER,
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`],
    concurrency,
    maxDeliver: OUTAGE_TOLERANT_DELIVERIES,
  },
];
