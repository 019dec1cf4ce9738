import { Inject, Injectable } from '@nestjs/common';
import { CommandReply, commandSubjects, type CancelJobCommand, type DeleteJobOutputCommand, type Job, type SubmitJobCommand } from '@reelay/contracts';
import { CommandUnavailableError, request } from '@reelay/messaging';
import { injectTraceparent } from '@reelay/service-kit';
import { ApiException } from '../errors/api-exception';
import { genericMessage } from '../errors/error-envelope';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

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
    const { nc, config, logger } = this.deps;
    // The request's trace rides in the NATS header; the command names it too, for intake's records.
    const traceparent = injectTraceparent();
    let raw: unknown;
    try {
      raw = await request(nc, commandSubjects(config.NATS_PREFIX)[name], traceparent ? { ...command, traceparent } : command, config.COMMAND_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof CommandUnavailableError) {
        logger.warn({ command: name, reason: err.reason }, 'intake unavailable');
        throw new ApiException('service_unavailable', genericMessage('service_unavailable'), { headers: { 'Retry-After': '1' } });
      }
      throw err;
    }
    const reply = CommandReply.safeParse(raw);
    if (!reply.success) {
      logger.error({ command: name }, 'intake sent a reply that does not match CommandReply');
      throw new ApiException('internal_error', genericMessage('internal_error'));
    }
    if (reply.data.ok) return reply.data.job;
    const { code, message, details } = reply.data.error;
    throw new ApiException(code, message, { details });
  }
}
