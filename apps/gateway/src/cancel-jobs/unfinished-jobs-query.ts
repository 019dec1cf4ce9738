import type { JobMetadata } from '@reelay/contracts';
import type { SqlExecutor } from '@reelay/event-store';
import type { JobCursor } from '../jobs/job-cursor';
import { UNFINISHED_IN_JOB_VIEW } from '../jobs/job-view-sql';

/**
 * Up to `limit` of the user's unfinished jobs whose metadata holds every given pair, oldest first
 * (after `after` when given), from the job_view read model (which may trail the log by a moment).
 */
export async function unfinishedJobsMatching(db: SqlExecutor, q: { userId: string; metadata: JobMetadata; limit: number; after?: JobCursor }): Promise<JobCursor[]> {
  const params: unknown[] = [q.userId, JSON.stringify({ metadata: q.metadata }), q.limit];
  if (q.after) params.push(q.after.createdAt, q.after.jobId);
  const rows: { job_id: string; created_at: Date }[] = await db.query(
    `SELECT job_id, created_at FROM job_view
      WHERE user_id = $1 AND ${UNFINISHED_IN_JOB_VIEW} AND job @> $2::jsonb${q.after ? ' AND (created_at, job_id) > ($4::timestamptz, $5)' : ''}
      ORDER BY created_at, job_id LIMIT $3`,
    params,
  );
  return rows.map((r) => ({ jobId: r.job_id, createdAt: new Date(r.created_at).toISOString() }));
}
