import { Inject, Injectable } from '@nestjs/common';
import { CommandReply, commandSubjects, type CancelJobCommand, type DeleteJobOutputCommand, type Job, type SubmitJobCommand } from '@reelay/contracts';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { askService } from '../service-requests/ask-service';

/** The gateway never writes job events: submit, cancel and output deletion are asked of intake over NATS request/reply. */
@Injectable()
export class IntakeClient {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  submit(command: SubmitJobCommand): Promise<Job> {
    return this.send('submitJob', command);
  }

  cancel(command: CancelJobCommand): Promise<Job> {
    return this.send('cancelJob', command);
  }

  deleteOutput(command: DeleteJobOutputCommand): Promise<Job> {
    return this.send('deleteJobOutput', command);
  }

  private async send(name: 'submitJob' | 'cancelJob' | 'deleteJobOutput', command: SubmitJobCommand | CancelJobCommand): Promise<Job> {
    const { job } = await askService<{ job: Job }>(this.deps, 'intake', commandSubjects(this.deps.config.NATS_PREFIX)[name], command, CommandReply);
    return job;
  }
}
