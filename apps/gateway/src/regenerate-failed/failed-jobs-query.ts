import { RETRYABLE_ERROR_CODES, type JobMetadata } from '@reelay/contracts';
import type { SqlExecutor } from '@reelay/event-store';
import type { JobCursor } from '../jobs/job-cursor';

const RETRYABLE = Object.entries(RETRYABLE_ERROR_CODES).flatMap(([code, retryable]) => (retryable ? [code] : []));

/**
 * Up to `limit` of the user's failed jobs created before `createdBefore` whose metadata holds every
 * given pair and that no job repeats yet (regenerate's `parentJobId`), oldest first after `after`, from the job_view read
 * model (which may trail the log by a moment). A failed job generated again is skipped, so calling
 * again after those failed too takes the new ones, not their parents a second time.
 */
export async function failedJobsToRegenerate(
  db: SqlExecutor,
  q: { userId: string; metadata: JobMetadata; retryableOnly: boolean; createdBefore: Date; limit: number; after?: JobCursor },
): Promise<JobCursor[]> {
  const params: unknown[] = [q.userId, JSON.stringify({ metadata: q.metadata }), q.limit, q.retryableOnly ? RETRYABLE : null, q.createdBefore];
  if (q.after) params.push(q.after.createdAt, q.after.jobId);
  const rows: { job_id: string; created_at: Date }[] = await db.query(
    `SELECT p.job_id, p.created_at FROM job_view p
      WHERE p.user_id = $1 AND p.status = 'failed' AND p.job @> $2::jsonb AND ($4::text[] IS NULL OR p.error_code = ANY($4)) AND p.created_at < $5
        AND NOT EXISTS (SELECT 1 FROM job_view c WHERE c.job ? 'parentJobId' AND c.job->>'parentJobId' = p.job_id)
        ${q.after ? 'AND (p.created_at, p.job_id) > ($6::timestamptz, $7)' : ''}
      ORDER BY p.created_at, p.job_id LIMIT $3`,
    params,
  );
  return rows.map((r) => ({ jobId: r.job_id, createdAt: new Date(r.created_at).toISOString() }));
}
