import { Inject, Injectable } from '@nestjs/common';
import { JOBS_AHEAD_MAX, type Job } from '@reelay/contracts';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

const NOT_STARTED: ReadonlySet<Job['status']> = new Set(['queued', 'validating']);

/**
 * The queue position of a job that has not started: the not-started jobs of its model submitted
 * before it (job_view's partial index, counted up to JOBS_AHEAD_MAX). A failed count leaves the
 * position out, never the job.
 */
@Injectable()
export class JobsAhead {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: Pick<GatewayDeps, 'dataSource' | 'logger'>) {}

  async withQueue(job: Job): Promise<Job> {
    if (!NOT_STARTED.has(job.status) || !job.createdAt) return job;
    try {
      const rows: { n: number }[] = await this.deps.dataSource.query(
        `SELECT count(*)::int AS n FROM (
           SELECT 1 FROM job_view
            WHERE status IN ('queued', 'validating') AND model = $1 AND (created_at, job_id) < ($2::timestamptz, $3)
            LIMIT $4) ahead`,
        [job.model, job.createdAt, job.id, JOBS_AHEAD_MAX],
      );
      return { ...job, queue: { jobsAhead: rows[0]?.n ?? 0 } };
    } catch (err) {
      this.deps.logger.warn({ err: String(err), jobId: job.id }, 'could not count the jobs ahead; the job is served without its queue position');
      return job;
    }
  }
}
