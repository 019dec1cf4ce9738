import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CancelJobCommand, commandSubjects, DeleteJobOutputCommand, SubmitJobCommand } from '@reelay/contracts';
import { serveCommands, type CommandServer, type NatsConnection } from '@reelay/messaging';
import { runWithContext, type Logger } from '@reelay/service-kit';
import { cancelJob } from './cancel-job/cancel-job.handler';
import { deleteJobOutput } from './delete-output/delete-output.handler';
import { INTAKE_DEPS, type IntakeDeps } from './intake.deps';
import { submitJob } from './submit-job/submit-job.handler';
import { VALIDATE_AFTER_SUBMIT, type ValidateAfterSubmit } from './validate-job/validate-after-submit';

export const INTAKE_RUNTIME = Symbol('INTAKE_RUNTIME');
export interface IntakeRuntime {
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
}

/** Answers the gateway's submit, cancel and delete-output requests (core NATS, queue group shared by replicas). */
@Injectable()
export class IntakeCommandServer implements OnModuleInit, BeforeApplicationShutdown {
  private servers: CommandServer[] = [];

  constructor(
    @Inject(INTAKE_DEPS) private readonly deps: IntakeDeps,
    @Inject(INTAKE_RUNTIME) private readonly rt: IntakeRuntime,
    @Inject(VALIDATE_AFTER_SUBMIT) private readonly validation: ValidateAfterSubmit,
  ) {}

  onModuleInit() {
    const subjects = commandSubjects(this.rt.prefix);
    const onError = (err: unknown, subject: string) => this.rt.logger.error({ err, subject }, 'command failed');
    this.servers = [
      serveCommands(this.rt.nc, subjects.submitJob, 'intake', (payload) => {
        const cmd = SubmitJobCommand.parse(payload);
        return runWithContext({ correlationId: cmd.correlationId, traceparent: cmd.traceparent }, () =>
          submitJob(this.deps, cmd, { onCreated: this.validation.start }),
        );
      }, { onError }),
      serveCommands(this.rt.nc, subjects.cancelJob, 'intake', (payload) => {
        const cmd = CancelJobCommand.parse(payload);
        return runWithContext({ jobId: cmd.jobId, correlationId: cmd.correlationId }, () => cancelJob(this.deps, cmd, this.rt.logger));
      }, { onError }),
      serveCommands(this.rt.nc, subjects.deleteJobOutput, 'intake', (payload) => {
        const cmd = DeleteJobOutputCommand.parse(payload);
        return runWithContext({ jobId: cmd.jobId, correlationId: cmd.correlationId }, () => deleteJobOutput(this.deps, cmd));
      }, { onError }),
    ];
  }

  /**
   * Before any onApplicationShutdown: InfraLifecycle closes NATS and PostgreSQL in that phase, and
   * Nest runs one module's shutdown hooks side by side, so answers and validations in flight would
   * race the close.
   */
  async beforeApplicationShutdown() {
    await Promise.all(this.servers.map((s) => s.close()));
    await this.validation.drain();
  }
}
