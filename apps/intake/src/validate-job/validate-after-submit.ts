import { jobIdFromStreamId, metadataCausedBy, type RecordedEvent } from '@reelay/contracts';
import type { JobState } from '@reelay/job-domain';
import { runWithContext, type Logger } from '@reelay/service-kit';
import { validateJob, type ValidateJobDeps } from './validate-job.handler';

export const VALIDATE_AFTER_SUBMIT = Symbol('VALIDATE_AFTER_SUBMIT');

/**
 * Validates a job this process has just created, without waiting for its JobSubmitted to come back
 * through the relay and JetStream (a hop of 10–25 ms at p50 under load, see docs/benchmarks.md).
 *
 * Only when the verdict needs no I/O (no reference image): an image is fetched by the consumer's
 * delivery alone, so two replicas never fetch one side by side. The delivery stays the durable
 * path: when this process dies first or this attempt fails, it validates the job; when this attempt
 * got there first, it finds the work done (the decider returns no events).
 */
export class ValidateAfterSubmit {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: ValidateJobDeps,
    private readonly logger: Logger,
  ) {}

  /** Starts after the current turn, so the submit's reply leaves first. Bound: it is handed around as `onCreated`. */
  readonly start = (submitted: RecordedEvent, job: JobState): void => {
    if (job.referenceImage) return;
    const jobId = jobIdFromStreamId(submitted.streamId);
    const context = { jobId, correlationId: submitted.metadata.correlationId, traceparent: submitted.metadata.traceparent };
    const task: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => runWithContext(context, () => validateJob(this.deps, jobId, metadataCausedBy(submitted), submitted.streamVersion)))
      .catch((err: unknown) => this.logger.warn({ err, jobId }, 'validation right after submit failed; the JobSubmitted delivery will validate the job'))
      .finally(() => {
        if (this.running.get(jobId) === task) this.running.delete(jobId);
      });
    this.running.set(jobId, task);
  };

  /**
   * Resolves once the validation this process started for `jobId` has ended (at once if none).
   * The delivery's handler waits for it, so that it finds the work done in the cached state rather
   * than racing this one to the append (a conflict, then a read of the stream).
   */
  settled(jobId: string): Promise<void> {
    return this.running.get(jobId) ?? Promise.resolve();
  }

  /** Waits for the validations started so far (at shutdown, before the store closes). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
