import { Inject, Injectable } from '@nestjs/common';
import { isTerminal, type Job, type JobEstimate } from '@reelay/contracts';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { finishTimesOf, type FinishTimes } from './finish-time-stats';

/** Each model's finish times are read at most this often per gateway process. */
export const STATS_TTL_MS = 60_000;
/** Too little history is looked at again sooner: a new model's first jobs should not wait a minute for their estimate. */
export const NO_HISTORY_TTL_MS = 5_000;

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
  private readonly cache = new Map<string, { at: number; ttl: number; times: Promise<FinishTimes | null> }>();

  /** The time in ms (a seam for tests). */
  now: () => number = Date.now;

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: Pick<GatewayDeps, 'dataSource' | 'logger'>) {}

  async withEstimate(job: Job): Promise<Job> {
    if (isTerminal(job.status)) return job;
    const estimate = estimateFor(job, await this.timesOf(job.model));
    return estimate ? { ...job, estimate } : job;
  }

  private timesOf(model: string): Promise<FinishTimes | null> {
    const now = this.now();
    const cached = this.cache.get(model);
    if (cached && now - cached.at < cached.ttl) return cached.times;
    const entry = { at: now, ttl: STATS_TTL_MS, times: Promise.resolve<FinishTimes | null>(null) };
    entry.times = finishTimesOf(this.deps.dataSource, model).then(
      (times) => {
        if (!times) entry.ttl = NO_HISTORY_TTL_MS;
        return times;
      },
      (err: unknown) => {
        this.deps.logger.warn({ err: String(err), model }, 'could not read finish times; jobs are served without an estimate');
        this.cache.delete(model);
        return null;
      },
    );
    this.cache.set(model, entry);
    return entry.times;
  }
}
