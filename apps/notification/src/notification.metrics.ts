import type { Metrics } from '@reelay/service-kit';
import { Counter, Histogram } from 'prom-client';

/** Notification's own metrics, on the service registry. */
export function createNotificationMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    livePushes: new Counter({ name: 'reelay_live_pushes_total', help: 'Job updates pushed live to the gateway', registers }),
    webhookDeliveries: new Counter({
      name: 'reelay_webhook_deliveries_total',
      help: 'Webhook attempts by what became of the delivery (delivered, retry, failed, lease_lost)',
      labelNames: ['outcome'],
      registers,
    }),
    webhookAttempts: new Histogram({
      name: 'reelay_webhook_attempt_seconds',
      help: 'Webhook HTTP attempt latency by outcome',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
export type NotificationMetrics = ReturnType<typeof createNotificationMetrics>;
