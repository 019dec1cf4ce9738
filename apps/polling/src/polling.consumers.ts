import { OUTAGE_TOLERANT_DELIVERIES, type ConsumerBinding } from '@reelay/messaging';

/**
 * A dead-lettered acceptance would leave a job running with no schedule row (so no check and no
 * deadline); a dead-lettered terminal event (or acceptance after a cancel), a provider task never told to stop.
 */
export const pollingConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'polling-follow', filterSubjects: [`${prefix}.events.job.JobProviderAccepted`], concurrency, maxDeliver: OUTAGE_TOLERANT_DELIVERIES },
  {
    durable: 'polling-stop',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`, `${prefix}.events.job.JobProviderAcceptedAfterCancel`],
    concurrency,
    maxDeliver: OUTAGE_TOLERANT_DELIVERIES,
  },
  // A dead-lettered deletion would leave a file its owner asked to be rid of.
  { durable: 'polling-remove-output', filterSubjects: [`${prefix}.events.job.JobOutputDeleted`], concurrency, maxDeliver: OUTAGE_TOLERANT_DELIVERIES },
];
