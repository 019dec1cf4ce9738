import { type DynamicModule, Module } from '@nestjs/common';
import { OpsModule, type Metrics, type ServiceInfra } from '@reelay/service-kit';
import { IntakeCommandServer, INTAKE_RUNTIME, type IntakeRuntime } from './command-server';
import { IntakeEventsController } from './intake.controller';
import { INTAKE_DEPS, type IntakeDeps } from './intake.deps';
import { VALIDATE_AFTER_SUBMIT, ValidateAfterSubmit } from './validate-job/validate-after-submit';
import { IntakeSweepService } from './intake-sweep.service';
import { InfraLifecycle, SERVICE_INFRA } from '@reelay/service-kit';

@Module({})
export class IntakeModule {
  static register(infra: ServiceInfra, deps: IntakeDeps, runtime: IntakeRuntime, metrics: Metrics): DynamicModule {
    return {
      module: IntakeModule,
      imports: [OpsModule.register({ checks: infra.checks, metrics })],
      controllers: [IntakeEventsController],
      providers: [
        { provide: INTAKE_DEPS, useValue: deps },
        { provide: INTAKE_RUNTIME, useValue: runtime },
        { provide: SERVICE_INFRA, useValue: infra },
        // One per process: the command server starts validations, the JobSubmitted handler waits for them.
        { provide: VALIDATE_AFTER_SUBMIT, useValue: new ValidateAfterSubmit(deps, runtime.logger) },
        IntakeCommandServer,
        IntakeSweepService,
        InfraLifecycle,
      ],
    };
  }
}
