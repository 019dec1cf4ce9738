import type { ConsumerBinding } from '@reelay/messaging';

export const notificationConsumers = (prefix: string, concurrency: number): ConsumerBinding[] => [
  { durable: 'notification-jobs', filterSubjects: [`${prefix}.events.job.>`], concurrency, maxDeliver: 10 },
];
