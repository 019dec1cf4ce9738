import { type DynamicModule, Module } from '@nestjs/common';
import type { Metrics } from '../metrics/registry';
import { METRICS, METRICS_TOKEN, OpsController, READINESS_CHECKS, type ReadinessChecks } from './ops.controller';

/** Health and metrics routes every service serves. */
@Module({})
export class OpsModule {
  /** `metricsToken`: /metrics then answers only `Authorization: Bearer <token>` (a service whose port is public). */
  static register(opts: { checks: ReadinessChecks; metrics: Metrics; metricsToken?: string }): DynamicModule {
    return {
      module: OpsModule,
      controllers: [OpsController],
      providers: [
        { provide: READINESS_CHECKS, useValue: opts.checks },
        { provide: METRICS, useValue: opts.metrics },
        { provide: METRICS_TOKEN, useValue: opts.metricsToken ?? null },
      ],
      exports: [METRICS],
    };
  }
}
