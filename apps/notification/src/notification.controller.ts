import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { jobIdFromStreamId, type RecordedEvent } from '@reelay/contracts';
import { runWithContext } from '@reelay/service-kit';
import { NOTIFICATION_DEPS, type NotificationDeps } from './notification.deps';
import { notifyJobEvent } from './notify-job-event/notify-job-event.handler';

/** Every job event; the durable consumer is shared by notification's replicas. */
@Controller()
export class NotificationEventsController {
  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  @EventPattern<string>('*.events.job.>')
  onJobEvent(@Payload() event: RecordedEvent) {
    const ctx = { jobId: jobIdFromStreamId(event.streamId), correlationId: event.metadata.correlationId, traceparent: event.metadata.traceparent };
    return runWithContext(ctx, () => notifyJobEvent(this.deps, event));
  }
}
