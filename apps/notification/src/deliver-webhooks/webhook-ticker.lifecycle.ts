import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { NOTIFICATION_DEPS, type NotificationDeps } from '../notification.deps';

/** Runs the delivery ticker while the service is up; stops it before connections close. */
@Injectable()
export class WebhookTickerLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  onApplicationBootstrap() {
    this.deps.deliverer.start();
  }

  async onModuleDestroy() {
    await this.deps.deliverer.stop();
  }
}
