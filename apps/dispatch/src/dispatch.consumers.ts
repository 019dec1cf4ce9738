import type { ConsumerBinding } from '@reelay/messaging';

/**
 * `dispatch-submit` waits by redelivery (a pending Retry-After, no free capacity slot), so one
 * message may legitimately be delivered many times: its deliveries are effectively unbounded and
 * dispatch bounds its retries itself, from the log (budget and counts per attempt). Each waiting
 * message stays ack-pending, and the server stops delivering at `maxAckPending`: with JetStream's
 * default of 1000, a thousand jobs waiting on one busy provider would stall every other provider's.
 */
export const dispatchConsumers = (prefix: string, concurrency: number, ackWaitMs = 60_000, maxHandlerMs = 600_000): ConsumerBinding[] => [
  { durable: 'dispatch-submit', filterSubjects: [`${prefix}.events.job.JobValidated`], concurrency, maxDeliver: 1_000_000, ackWaitMs, maxHandlerMs, maxAckPending: 100_000 },
  {
    durable: 'dispatch-release-slots',
    filterSubjects: [`${prefix}.events.job.JobSucceeded`, `${prefix}.events.job.JobFailed`, `${prefix}.events.job.JobCanceled`, `${prefix}.events.job.JobProviderTaskEnded`],
    concurrency,
    maxDeliver: 10,
  },
];
