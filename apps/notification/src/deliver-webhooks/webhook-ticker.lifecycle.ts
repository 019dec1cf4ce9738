import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { NOTIFICATION_DEPS, type NotificationDeps } from '../notification.deps';

/** Runs the delivery ticker and the history sweep while the service is up; stops them before connections close. */
@Injectable()
export class WebhookTickerLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  onApplicationBootstrap() {
    this.deps.deliverer.start();
    this.deps.history?.start();
  }

  async onModuleDestroy() {
    await Promise.all([this.deps.deliverer.stop(), this.deps.history?.stop()]);
  }
}
