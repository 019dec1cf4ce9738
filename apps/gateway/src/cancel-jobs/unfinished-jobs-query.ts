import type { JobMetadata } from '@reelay/contracts';
import type { SqlExecutor } from '@reelay/event-store';
import { UNFINISHED_IN_JOB_VIEW } from '../jobs/job-view-sql';

/**
 * Up to `limit` of the user's unfinished jobs whose metadata holds every given pair, oldest first,
 * from the job_view read model (which may trail the log by a moment).
 */
export async function unfinishedJobsMatching(db: SqlExecutor, q: { userId: string; metadata: JobMetadata; limit: number }): Promise<string[]> {
  const rows: { job_id: string }[] = await db.query(
    `SELECT job_id FROM job_view
      WHERE user_id = $1 AND ${UNFINISHED_IN_JOB_VIEW} AND job @> $2::jsonb
      ORDER BY created_at, job_id LIMIT $3`,
    [q.userId, JSON.stringify({ metadata: q.metadata }), q.limit],
  );
  return rows.map((r) => r.job_id);
}
