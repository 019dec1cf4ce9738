import { type DynamicModule, Module } from '@nestjs/common';
import type { Metrics } from '../metrics/registry';
import { METRICS, OpsController, READINESS_CHECKS, type ReadinessChecks } from './ops.controller';

/** Health and metrics routes every service serves. */
@Module({})
export class OpsModule {
  static register(opts: { checks: ReadinessChecks; metrics: Metrics }): DynamicModule {
    return {
      module: OpsModule,
      controllers: [OpsController],
      providers: [
        { provide: READINESS_CHECKS, useValue: opts.checks },
        { provide: METRICS, useValue: opts.metrics },
      ],
      exports: [METRICS],
    };
  }
}
