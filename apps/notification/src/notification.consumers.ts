import { OUTAGE_TOLERANT_DELIVERIES, type ConsumerBinding } from '@reelay/messaging';

/**
 * A job's terminal event has no later event whose fold would make up for it, so a dead letter
 * there would be a lost webhook and a lost live update until an operator replays it.
 */
export const notificationConsumers = (prefix: string, concurrency: number, ackWaitMs = 30_000): ConsumerBinding[] => [
  { durable: 'notification-jobs', filterSubjects: [`${prefix}.events.job.>`], concurrency, maxDeliver: OUTAGE_TOLERANT_DELIVERIES, ackWaitMs },
];
