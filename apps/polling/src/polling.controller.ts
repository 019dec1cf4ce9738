import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobFailed, JobProviderAccepted, jobIdFromStreamId, metadataCausedBy, type RecordedEvent } from '@reelay/contracts';
import { runWithContext } from '@reelay/service-kit';
import { cancelAtProvider } from './cancel-at-provider/cancel-at-provider.handler';
import { followJob } from './follow-job/follow-job.handler';
import { removeDeletedOutput } from './delete-output/remove-deleted-output.handler';
import { removeUnusedOutput } from './delete-output/remove-unused-output.handler';
import { POLLING_DEPS, type PollingDeps } from './polling.deps';

const inContext = <T>(event: RecordedEvent, fn: (jobId: string) => Promise<T>) => {
  const jobId = jobIdFromStreamId(event.streamId);
  return runWithContext({ jobId, correlationId: event.metadata.correlationId, traceparent: event.metadata.traceparent }, () => fn(jobId));
};

/** Polling's event handlers; each consumer is durable and shared by polling's replicas. */
@Controller()
export class PollingEventsController {
  constructor(@Inject(POLLING_DEPS) private readonly deps: PollingDeps) {}

  @EventPattern<string>('*.events.job.JobProviderAccepted')
  onProviderAccepted(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => {
      const data = JobProviderAccepted.data.parse(event.data);
      return followJob(this.deps, { jobId, provider: data.provider, providerTaskId: data.providerTaskId, at: data.at }, metadataCausedBy(event));
    });
  }

  @EventPattern<string>('*.events.job.JobCanceled')
  onCanceled(@Payload() event: RecordedEvent) {
    return inContext(event, async (jobId) => {
      await cancelAtProvider(this.deps, jobId, metadataCausedBy(event));
      await removeUnusedOutput(this.deps, jobId);
    });
  }

  /** A submit that raced the user's cancel was accepted all the same: its task is stopped, or waited out like a canceled job's. */
  @EventPattern<string>('*.events.job.JobProviderAcceptedAfterCancel')
  onAcceptedAfterCancel(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => cancelAtProvider(this.deps, jobId, metadataCausedBy(event)));
  }

  @EventPattern<string>('*.events.job.JobSucceeded')
  onSucceeded(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => this.deps.schedule.remove(jobId));
  }

  /**
   * A job timed out while its task may still be generating (and billing): the provider is asked to
   * stop it where it can, which also gives its capacity back there.
   */
  @EventPattern<string>('*.events.job.JobFailed')
  onFailed(@Payload() event: RecordedEvent) {
    const timedOut = JobFailed.data.parse(event.data).errorCode === 'provider_timeout';
    return inContext(event, async (jobId) => {
      await (timedOut ? cancelAtProvider(this.deps, jobId, metadataCausedBy(event)) : this.deps.schedule.remove(jobId));
      await removeUnusedOutput(this.deps, jobId);
    });
  }

  @EventPattern<string>('*.events.job.JobOutputDeleted')
  onOutputDeleted(@Payload() event: RecordedEvent) {
    return inContext(event, (jobId) => removeDeletedOutput(this.deps, jobId, event.data));
  }
}
