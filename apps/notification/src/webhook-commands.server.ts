import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { commandSubjects } from '@reelay/contracts';
import { serveCommands, type CommandServer } from '@reelay/messaging';
import { listWebhookDeliveries } from './list-webhook-deliveries/list-webhook-deliveries.handler';
import { NOTIFICATION_DEPS, type NotificationDeps } from './notification.deps';
import { testWebhook } from './test-webhook/test-webhook.handler';
import { rotateWebhookSecret, showWebhookSecret } from './webhook-secret/webhook-secret.handlers';

/**
 * Answers the gateway's webhook requests (core NATS, queue group shared by replicas): the delivery
 * tables, the signing and the users' secrets are notification's, so the gateway asks instead.
 */
@Injectable()
export class WebhookCommandServer implements OnModuleInit, BeforeApplicationShutdown {
  private servers: CommandServer[] = [];

  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  onModuleInit() {
    const subjects = commandSubjects(this.deps.prefix);
    const onError = (err: unknown, subject: string) => this.deps.logger.error({ err, subject }, 'webhook request failed');
    this.servers = [
      serveCommands(this.deps.nc, subjects.webhookDeliveries, 'notification', (payload) => listWebhookDeliveries(this.deps, payload), { onError }),
      serveCommands(this.deps.nc, subjects.webhookTest, 'notification', (payload) => testWebhook(this.deps, payload), { onError }),
      serveCommands(this.deps.nc, subjects.webhookSecret, 'notification', (payload) => showWebhookSecret(this.deps, payload), { onError }),
      serveCommands(this.deps.nc, subjects.rotateWebhookSecret, 'notification', (payload) => rotateWebhookSecret(this.deps, payload), { onError }),
    ];
  }

  /** Before InfraLifecycle closes NATS and PostgreSQL (see intake's command server). */
  async beforeApplicationShutdown() {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}
