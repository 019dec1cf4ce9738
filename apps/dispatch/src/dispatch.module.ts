import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { InfraLifecycle, OpsModule, SERVICE_INFRA, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import { DispatchEventsController } from './dispatch.controller';
import { DISPATCH_DEPS, type DispatchDeps } from './dispatch.deps';
import type { Periodic } from './shared/periodic';

const BACKGROUND = Symbol('BACKGROUND');

/**
 * The in-process timers (slot sweep, in-flight gauge) run while the app does. They stop before any
 * onApplicationShutdown, where InfraLifecycle closes PostgreSQL: Nest runs a module's shutdown hooks
 * side by side, so a sweep under way would race the close.
 */
@Injectable()
class BackgroundLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(BACKGROUND) private readonly background: Periodic[]) {}
  onApplicationBootstrap() {
    for (const task of this.background) task.start();
  }
  async beforeApplicationShutdown() {
    await Promise.all(this.background.map((task) => task.stop()));
  }
}

@Module({})
export class DispatchModule {
  static register(infra: ServiceInfra, deps: DispatchDeps, background: Periodic[], metrics: Metrics): DynamicModule {
    return {
      module: DispatchModule,
      imports: [OpsModule.register({ checks: infra.checks, metrics })],
      controllers: [DispatchEventsController],
      providers: [
        { provide: DISPATCH_DEPS, useValue: deps },
        { provide: SERVICE_INFRA, useValue: infra },
        { provide: BACKGROUND, useValue: background },
        BackgroundLifecycle,
        InfraLifecycle,
      ],
    };
  }
}
