import { Inject, Injectable } from '@nestjs/common';
import { JobId, jobStreamId, type RecordedEvent } from '@reelay/contracts';
import { foldRecordedJob, type JobState } from '@reelay/job-domain';
import { ApiException, notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

export interface LoadedJob {
  state: JobState;
  version: number;
  events: RecordedEvent[];
}

/** Reads jobs from the event log (strongly consistent), for their owner only. */
@Injectable()
export class JobReader {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** Whether `jobId` is a job of `userId`. */
  async exists(jobId: string, userId: string): Promise<boolean> {
    return (await this.findOwned(jobId, userId)) !== null;
  }

  /** The job as `loadOwned` reads it, or null where that answers 404. */
  findOwned(jobId: string, userId: string): Promise<LoadedJob | null> {
    return this.loadOwned(jobId, userId).catch((err: unknown) => (err instanceof ApiException && err.code === 'not_found' ? null : Promise.reject(err)));
  }

  /** The job folded from its stream; 404 when it does not exist or belongs to someone else. */
  async loadOwned(jobId: string, userId: string): Promise<LoadedJob> {
    if (!JobId.safeParse(jobId).success) throw notFound('job');
    const events = await this.deps.store.readStream(jobStreamId(jobId));
    const { state, version } = foldRecordedJob(events);
    if (!state.exists || state.userId !== userId) throw notFound('job');
    return { state, version, events };
  }
}
