import { type DynamicModule, Module } from '@nestjs/common';
import { InfraLifecycle, OpsModule, SERVICE_INFRA, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import { POLLING_DEPS, type PollingDeps, type TickerOptions } from './polling.deps';
import { PollingEventsController } from './polling.controller';
import { POLLING_RUNTIME, ProviderCallbackServer, type PollingRuntime } from './provider-callback/callback-server';
import { PollTickerService, TICKER_OPTIONS } from './schedule/poll-ticker.service';
import { AbandonedCopiesSweep } from './take-output/abandoned-copies.service';
import { FollowSweepService } from './follow-job/follow-sweep.service';
import { OutputRetentionService, RETENTION_OPTIONS, type RetentionOptions } from './delete-output/output-retention.service';

@Module({})
export class PollingModule {
  static register(infra: ServiceInfra, deps: PollingDeps, runtime: PollingRuntime, ticker: TickerOptions, retention: RetentionOptions, metrics: Metrics): DynamicModule {
    return {
      module: PollingModule,
      imports: [OpsModule.register({ checks: infra.checks, metrics })],
      controllers: [PollingEventsController],
      providers: [
        { provide: POLLING_DEPS, useValue: deps },
        { provide: POLLING_RUNTIME, useValue: runtime },
        { provide: TICKER_OPTIONS, useValue: ticker },
        { provide: RETENTION_OPTIONS, useValue: retention },
        { provide: SERVICE_INFRA, useValue: infra },
        ProviderCallbackServer,
        PollTickerService,
        AbandonedCopiesSweep,
        FollowSweepService,
        OutputRetentionService,
        InfraLifecycle,
      ],
    };
  }
}
