import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { commandSubjects, ListWebhookDeliveriesQuery, type WebhookDeliveriesReply } from '@reelay/contracts';
import { serveCommands, type CommandServer } from '@reelay/messaging';
import { NOTIFICATION_DEPS, type NotificationDeps } from '../notification.deps';

/**
 * Answers the gateway's `GET /v1/jobs/{id}/webhooks` (core NATS, queue group shared by replicas):
 * the delivery tables are notification's, so the gateway asks instead of reading them.
 */
@Injectable()
export class WebhookDeliveriesServer implements OnModuleInit, BeforeApplicationShutdown {
  private server: CommandServer | null = null;

  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  onModuleInit() {
    this.server = serveCommands(
      this.deps.nc,
      commandSubjects(this.deps.prefix).webhookDeliveries,
      'notification',
      async (payload): Promise<WebhookDeliveriesReply> => {
        const query = ListWebhookDeliveriesQuery.parse(payload);
        return { ok: true, deliveries: await this.deps.deliveries.list(query.jobId, query.userId) };
      },
      { onError: (err, subject) => this.deps.logger.error({ err, subject }, 'listing webhook deliveries failed') },
    );
  }

  /** Before InfraLifecycle closes NATS and PostgreSQL (see intake's command server). */
  async beforeApplicationShutdown() {
    await this.server?.close();
  }
}
