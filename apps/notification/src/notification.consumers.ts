import type { ConsumerBinding } from '@reelay/messaging';

export const notificationConsumers = (prefix: string, concurrency: number, ackWaitMs = 30_000): ConsumerBinding[] => [
  { durable: 'notification-jobs', filterSubjects: [`${prefix}.events.job.>`], concurrency, maxDeliver: 10, ackWaitMs },
];
