import { Inject, Injectable } from '@nestjs/common';
import { isTerminal, type Job, type JobEstimate } from '@reelay/contracts';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { finishTimesOf, type FinishTimes } from './finish-time-stats';

/** Each model's finish times are read at most this often per gateway process. */
const STATS_TTL_MS = 60_000;

/** The finish-time estimate of a job, from when it was submitted and its model's recent history. */
export function estimateFor(job: Pick<Job, 'status' | 'createdAt'>, times: FinishTimes | null): JobEstimate | undefined {
  if (!times || isTerminal(job.status) || !job.createdAt) return undefined;
  const created = Date.parse(job.createdAt);
  return {
    readyByP50: new Date(created + Math.round(times.p50Ms)).toISOString(),
    readyByP90: new Date(created + Math.round(times.p90Ms)).toISOString(),
    basedOnJobs: times.jobs,
  };
}

/**
 * Finish-time estimates for unfinished jobs ("usually ready in about 3 minutes"). The statistics are
 * cached per model for a minute; failing to read them leaves the estimate out, never the job.
 */
@Injectable()
export class JobEstimates {
  private readonly cache = new Map<string, { at: number; times: Promise<FinishTimes | null> }>();

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  async withEstimate(job: Job): Promise<Job> {
    if (isTerminal(job.status)) return job;
    const estimate = estimateFor(job, await this.timesOf(job.model));
    return estimate ? { ...job, estimate } : job;
  }

  private timesOf(model: string): Promise<FinishTimes | null> {
    const now = Date.now();
    const cached = this.cache.get(model);
    if (cached && now - cached.at < STATS_TTL_MS) return cached.times;
    const times = finishTimesOf(this.deps.dataSource, model).catch((err: unknown) => {
      this.deps.logger.warn({ err: String(err), model }, 'could not read finish times; jobs are served without an estimate');
      this.cache.delete(model);
      return null;
    });
    this.cache.set(model, { at: now, times });
    return times;
  }
}
