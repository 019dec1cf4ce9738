import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InfraLifecycle, OpsModule, SERVICE_INFRA, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import type { SlotSweeper } from './capacity/slot-sweeper';
import { DispatchEventsController } from './dispatch.controller';
import { DISPATCH_DEPS, type DispatchDeps } from './dispatch.deps';

const SLOT_SWEEPER = Symbol('SLOT_SWEEPER');

@Injectable()
class SweeperLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(SLOT_SWEEPER) private readonly sweeper: SlotSweeper) {}
  onApplicationBootstrap() {
    this.sweeper.start();
  }
  async onApplicationShutdown() {
    await this.sweeper.stop();
  }
}

@Module({})
export class DispatchModule {
  static register(infra: ServiceInfra, deps: DispatchDeps, sweeper: SlotSweeper, metrics: Metrics): DynamicModule {
    return {
      module: DispatchModule,
      imports: [OpsModule.register({ checks: infra.checks, metrics })],
      controllers: [DispatchEventsController],
      providers: [
        { provide: DISPATCH_DEPS, useValue: deps },
        { provide: SERVICE_INFRA, useValue: infra },
        { provide: SLOT_SWEEPER, useValue: sweeper },
        SweeperLifecycle,
        InfraLifecycle,
      ],
    };
  }
}
