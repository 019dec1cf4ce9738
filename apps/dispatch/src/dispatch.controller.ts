import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JobFailed, jobIdFromStreamId, metadataCausedBy, type RecordedEvent } from '@reelay/contracts';
import type { JetStreamContext } from '@reelay/messaging';
import { runWithContext } from '@reelay/service-kit';
import { DISPATCH_DEPS, type DispatchDeps } from './dispatch.deps';
import { dispatchJob } from './dispatch-when-job-validated/dispatch-job.handler';
import { dispatchOrGiveUp } from './dispatch-when-job-validated/give-up-after-errors';
import { redeliverCanceled, releaseSlotOfCanceledJob, releaseSlotOfFailedJob, releaseSlotOfFinishedJob } from './release-slot-when-job-finished/release-slot.handler';

const inContext = <T>(event: RecordedEvent, fn: (jobId: string) => Promise<T>) => {
  const jobId = jobIdFromStreamId(event.streamId);
  return runWithContext({ jobId, correlationId: event.metadata.correlationId, traceparent: event.metadata.traceparent }, () => fn(jobId));
};

/** Dispatch's event handlers; each consumer is durable and shared by dispatch's replicas. */
@Controller()
export class DispatchEventsController {
  constructor(@Inject(DISPATCH_DEPS) private readonly deps: DispatchDeps) {}

  @EventPattern<string>('*.events.job.JobValidated')
  async onValidated(@Payload() event: RecordedEvent, @Ctx() ctx: JetStreamContext) {
    const outcome = await inContext(event, (jobId) => dispatchOrGiveUp(this.deps, jobId, metadataCausedBy(event), ctx.getMessage().info.deliveryCount, event.streamVersion));
    // Waiting is a redelivery at the time we ask for: the timer lives in JetStream, not in this
    // process. After this nak the transport's ack is a no-op (a JsMsg answers once).
    if (outcome.kind === 'later') ctx.getMessage().nak(Math.max(1, outcome.delayMs));
  }

  @EventPattern<string>('*.events.job.JobSucceeded')
  onSucceeded(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => releaseSlotOfFinishedJob(this.deps, jobId));
  }

  @EventPattern<string>('*.events.job.JobFailed')
  onFailed(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => releaseSlotOfFailedJob(this.deps, jobId, JobFailed.data.parse(event.data)));
  }

  @EventPattern<string>('*.events.job.JobCanceled')
  async onCanceled(@Payload() event: RecordedEvent, @Ctx() ctx: JetStreamContext) {
    const outcome = await inContext(event, (jobId) => releaseSlotOfCanceledJob(this.deps, jobId, () => dispatchJob(this.deps, jobId, metadataCausedBy(event))));
    const msg = ctx.getMessage();
    if (outcome.kind === 'later' && redeliverCanceled(outcome, msg.info.deliveryCount)) msg.nak(Math.max(1, outcome.delayMs));
  }

  @EventPattern<string>('*.events.job.JobProviderTaskEnded')
  onProviderTaskEnded(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => releaseSlotOfFinishedJob(this.deps, jobId));
  }
}
