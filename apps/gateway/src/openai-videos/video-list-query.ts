import type { Job } from '@reelay/contracts';
import type { SqlExecutor } from '@reelay/event-store';

export interface VideoPage {
  jobs: Job[];
  hasMore: boolean;
}

/**
 * A page of the user's jobs from job_view in creation order (`desc` newest first), starting after the
 * job `after` (keyset on created_at, job_id). null when `after` is not one of the user's jobs.
 */
export async function queryVideoPage(
  db: SqlExecutor,
  q: { userId: string; limit: number; order: 'asc' | 'desc'; after?: string },
): Promise<VideoPage | null> {
  const params: unknown[] = [q.userId, q.limit + 1];
  let where = 'user_id = $1';
  if (q.after !== undefined) {
    const anchor: { created_at: Date }[] = await db.query('SELECT created_at FROM job_view WHERE user_id = $1 AND job_id = $2', [q.userId, q.after]);
    if (anchor.length === 0) return null;
    params.push(anchor[0].created_at, q.after);
    where += ` AND (created_at, job_id) ${q.order === 'desc' ? '<' : '>'} ($3::timestamptz, $4)`;
  }
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  const rows: { job: Job }[] = await db.query(`SELECT job FROM job_view WHERE ${where} ORDER BY created_at ${dir}, job_id ${dir} LIMIT $2`, params);
  return { jobs: rows.slice(0, q.limit).map((r) => r.job), hasMore: rows.length > q.limit };
}
