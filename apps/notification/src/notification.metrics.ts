import type { Metrics } from '@reelay/service-kit';
import { Counter, Histogram } from 'prom-client';

/**
 * Notification's own metrics, on the service registry, plus the job status series: notification
 * reads every job event with the job's history, so it counts each status change and times the
 * status left, in one place for all writers (intake, dispatch, polling).
 */
export function createNotificationMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    jobTransitions: metrics.jobTransitions,
    statusDuration: metrics.statusDuration,
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
