import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InfraLifecycle, OpsModule, SERVICE_INFRA, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import { DispatchEventsController } from './dispatch.controller';
import { DISPATCH_DEPS, type DispatchDeps } from './dispatch.deps';
import type { Periodic } from './shared/periodic';

const BACKGROUND = Symbol('BACKGROUND');

/** The in-process timers (slot sweep, in-flight gauge) run while the app does. */
@Injectable()
class BackgroundLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(BACKGROUND) private readonly background: Periodic[]) {}
  onApplicationBootstrap() {
    for (const task of this.background) task.start();
  }
  async onApplicationShutdown() {
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
