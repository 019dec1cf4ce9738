import type { ConsumerBinding } from '@reelay/messaging';

/**
 * A failing delivery is retried with backoff up to a minute apart (JetStreamServer), and dead-lettered
 * after `maxDeliver`: 200 deliveries ride out a PostgreSQL outage of over three hours. A job's
 * terminal event has no later event whose fold would make up for it, so a dead letter there would
 * be a lost webhook and a lost live update until an operator replays it.
 */
export const notificationConsumers = (prefix: string, concurrency: number, ackWaitMs = 30_000): ConsumerBinding[] => [
  { durable: 'notification-jobs', filterSubjects: [`${prefix}.events.job.>`], concurrency, maxDeliver: 200, ackWaitMs },
];
