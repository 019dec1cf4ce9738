import type { EventStore } from '@reelay/event-store';
import type { NatsConnection } from '@reelay/messaging';
import type { Logger } from '@reelay/service-kit';
import type { WebhookDeliverer } from './deliver-webhooks/webhook-deliverer';
import type { WebhookDeliveryStore } from './deliver-webhooks/webhook-delivery-store';
import type { WebhookHistorySweep } from './forget-webhook-history/webhook-history-sweep';
import type { NotificationMetrics } from './notification.metrics';
import type { JobStateCache } from './shared/job-state-cache';
import type { WebhookSecrets } from './webhook-secret/webhook-secrets';

export const NOTIFICATION_DEPS = Symbol('NOTIFICATION_DEPS');

export interface NotificationDeps {
  store: EventStore;
  nc: NatsConnection;
  prefix: string;
  deliveries: WebhookDeliveryStore;
  deliverer: WebhookDeliverer;
  /** Forgets deliveries that ended longer ago than WEBHOOK_HISTORY_DAYS (optional: tests leave it out). */
  history?: WebhookHistorySweep;
  /** Users' signing secrets and their rotations. */
  secrets: WebhookSecrets;
  /** Folded job states, so that an event in order costs no read of its stream. */
  jobs: JobStateCache;
  logger: Logger;
  metrics?: NotificationMetrics;
}
