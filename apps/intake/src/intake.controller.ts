import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { jobIdFromStreamId, metadataCausedBy, type RecordedEvent } from '@reelay/contracts';
import { runWithContext } from '@reelay/service-kit';
import { INTAKE_DEPS, type IntakeDeps } from './intake.deps';
import { settleCredits } from './settle-credits/settle-credits.handler';
import { VALIDATE_AFTER_SUBMIT, type ValidateAfterSubmit } from './validate-job/validate-after-submit';
import { validateJob } from './validate-job/validate-job.handler';

const inContext = <T>(event: RecordedEvent, fn: (jobId: string) => Promise<T>) => {
  const jobId = jobIdFromStreamId(event.streamId);
  return runWithContext({ jobId, correlationId: event.metadata.correlationId, traceparent: event.metadata.traceparent }, () => fn(jobId));
};

/** Intake's event handlers; each consumer is durable and shared by intake's replicas. */
@Controller()
export class IntakeEventsController {
  constructor(
    @Inject(INTAKE_DEPS) private readonly deps: IntakeDeps,
    @Inject(VALIDATE_AFTER_SUBMIT) private readonly validation: ValidateAfterSubmit,
  ) {}

  @EventPattern<string>('*.events.job.JobSubmitted')
  onSubmitted(@Payload() event: RecordedEvent) {
    return inContext(event, async (jobId) => {
      await this.validation.settled(jobId);
      return validateJob(this.deps, jobId, metadataCausedBy(event), event.streamVersion);
    });
  }

  @EventPattern<string>('*.events.job.JobSucceeded')
  onSucceeded(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => settleCredits(this.deps, jobId, metadataCausedBy(event), event.streamVersion));
  }

  @EventPattern<string>('*.events.job.JobFailed')
  onFailed(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => settleCredits(this.deps, jobId, metadataCausedBy(event), event.streamVersion));
  }

  @EventPattern<string>('*.events.job.JobCanceled')
  onCanceled(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => settleCredits(this.deps, jobId, metadataCausedBy(event), event.streamVersion));
  }
}
