import { Inject, Injectable } from '@nestjs/common';
import { JobId, jobStreamId, parseEvent, type JobEvent, type RecordedEvent } from '@reelay/contracts';
import { jobDecider, type JobState } from '@reelay/job-domain';
import { notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

export interface LoadedJob {
  state: JobState;
  version: number;
  events: RecordedEvent[];
}

export const toJobEvent = (e: RecordedEvent) => parseEvent(e.type, e.schemaVersion, e.data) as JobEvent;

/** Reads jobs from the event log (strongly consistent), for their owner only. */
@Injectable()
export class JobReader {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** The job folded from its stream; 404 when it does not exist or belongs to someone else. */
  async loadOwned(jobId: string, userId: string): Promise<LoadedJob> {
    if (!JobId.safeParse(jobId).success) throw notFound('job');
    const events = await this.deps.store.readStream(jobStreamId(jobId));
    let state = jobDecider.initialState();
    for (const e of events) state = jobDecider.evolve(state, toJobEvent(e));
    if (!state.exists || state.userId !== userId) throw notFound('job');
    return { state, version: events.at(-1)?.streamVersion ?? 0, events };
  }
}
