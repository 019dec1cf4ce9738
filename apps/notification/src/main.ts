import { JetStreamServer } from '@reelay/messaging';
import { connectInfra, createLogger, createMetrics, exitFatally, initTracing, loadConfig, runService } from '@reelay/service-kit';
import { NotificationConfig } from './config';
import { sendWebhook } from './deliver-webhooks/send-webhook';
import { WebhookDeliverer } from './deliver-webhooks/webhook-deliverer';
import { WebhookDeliveryStore } from './deliver-webhooks/webhook-delivery-store';
import { WebhookHistorySweep } from './forget-webhook-history/webhook-history-sweep';
import { NOTIFICATION_MIGRATIONS } from './migrations';
import { notificationConsumers } from './notification.consumers';
import { createNotificationMetrics } from './notification.metrics';
import { NotificationModule } from './notification.module';
import { JobStateCache } from './shared/job-state-cache';
import { WebhookSecrets } from './webhook-secret/webhook-secrets';

async function main() {
  initTracing('notification');
  const config = loadConfig(NotificationConfig);
  const logger = createLogger('notification', config.LOG_LEVEL);
  const metrics = createMetrics('notification');
  const own = createNotificationMetrics(metrics);
  const infra = await connectInfra({ name: 'notification', config, logger, metrics, relay: true, migrations: NOTIFICATION_MIGRATIONS });
  const deliveries = new WebhookDeliveryStore(infra.dataSource, config.WEBHOOK_CONCURRENCY_PER_USER);
  const secrets = new WebhookSecrets(infra.dataSource, { current: config.WEBHOOK_MASTER_SECRET, previous: config.WEBHOOK_MASTER_SECRET_PREVIOUS });
  const deliverer = new WebhookDeliverer({
    store: deliveries,
    send: (d) => sendWebhook(d, { secrets: (userId) => secrets.signingSecretsOf(userId), timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowHosts: config.OUTBOUND_ALLOW_HOSTS }),
    policy: { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, baseDelayMs: config.WEBHOOK_BACKOFF_BASE_MS, maxDelayMs: config.WEBHOOK_BACKOFF_MAX_MS },
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    tickMs: config.WEBHOOK_TICK_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    logger,
    metrics: own,
  });
  const jobs = new JobStateCache(config.JOB_STATE_CACHE_SIZE);
  const history = new WebhookHistorySweep(infra.dataSource, config.WEBHOOK_HISTORY_DAYS, logger);
  const deps = { store: infra.store, nc: infra.nc, prefix: infra.prefix, deliveries, deliverer, history, secrets, jobs, logger, metrics: own };
  await runService({
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    name: 'notification',
    module: NotificationModule.register(infra, deps, metrics),
    port: config.NOTIFICATION_PORT,
    logger,
    strategies: () => [
      new JetStreamServer({
        connection: infra.nc,
        name: 'notification',
        prefix: infra.prefix,
        consumers: notificationConsumers(infra.prefix, config.CONSUMER_CONCURRENCY, config.CONSUMER_ACK_WAIT_MS),
        deadLetters: infra.deadLetters,
        topology: { replicas: config.NATS_REPLICAS },
      }),
    ],
  });
}

main().catch((err: unknown) => exitFatally('notification', err));
