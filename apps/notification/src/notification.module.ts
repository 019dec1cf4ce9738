import { type DynamicModule, Module } from '@nestjs/common';
import { InfraLifecycle, OpsModule, SERVICE_INFRA, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import { WebhookTickerLifecycle } from './deliver-webhooks/webhook-ticker.lifecycle';
import { WebhookCommandServer } from './webhook-commands.server';
import { NotificationEventsController } from './notification.controller';
import { NOTIFICATION_DEPS, type NotificationDeps } from './notification.deps';

@Module({})
export class NotificationModule {
  static register(infra: ServiceInfra, deps: NotificationDeps, metrics: Metrics): DynamicModule {
    return {
      module: NotificationModule,
      imports: [OpsModule.register({ checks: infra.checks, metrics })],
      controllers: [NotificationEventsController],
      providers: [
        { provide: NOTIFICATION_DEPS, useValue: deps },
        { provide: SERVICE_INFRA, useValue: infra },
        WebhookTickerLifecycle,
        WebhookCommandServer,
        InfraLifecycle,
      ],
    };
  }
}
