import type { Job, JobMetadata, JobStatus } from '@reelay/contracts';
import { derivedJobFields } from '@reelay/job-domain';
import type { SqlExecutor } from '@reelay/event-store';
import type { JobCursor } from '../jobs/job-cursor';

export interface JobPage {
  jobs: Job[];
  /** Where the next page starts, or null on the last page. */
  next: JobCursor | null;
}

/** A page of the user's jobs from the job_view read model, newest first (keyset on created_at, job_id). */
export async function queryJobView(
  db: SqlExecutor,
  q: { userId: string; status?: JobStatus; metadata?: JobMetadata; limit: number; after?: JobCursor },
): Promise<JobPage> {
  const params: unknown[] = [q.userId, q.limit + 1];
  const where = ['user_id = $1'];
  if (q.status) {
    params.push(q.status);
    where.push(`status = $${params.length}`);
  }
  if (q.metadata && Object.keys(q.metadata).length > 0) {
    // Containment on the stored public job, within the user's rows (their index narrows the scan).
    params.push(JSON.stringify({ metadata: q.metadata }));
    where.push(`job @> $${params.length}::jsonb`);
  }
  if (q.after) {
    params.push(q.after.createdAt, q.after.jobId);
    where.push(`(created_at, job_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  const rows: { job: Job; created_at: Date; job_id: string }[] = await db.query(
    `SELECT job, created_at, job_id FROM job_view WHERE ${where.join(' AND ')} ORDER BY created_at DESC, job_id DESC LIMIT $2`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    // A finished job's row is not written again: one stored before `retryable` and `links` gets them here.
    jobs: page.map((r) => ({ ...r.job, ...derivedJobFields(r.job) })),
    next: rows.length > q.limit && last ? { createdAt: new Date(last.created_at).toISOString(), jobId: last.job_id } : null,
  };
}
