import type { DataSource } from 'typeorm';

type Db = Pick<DataSource, 'query'>;

export interface DueDeadline {
  jobId: string;
  userId: string;
  /** When the submit wrote it (before its job existed). */
  recordedAt: Date;
}

/**
 * Records that `jobId` is to be canceled at `cancelAt`, before its JobSubmitted is appended: a crash
 * in between leaves a deadline without a job (dropped once it is found so), never a job without its
 * deadline. A retried submit of the same job (its Idempotency-Key) takes the row over: the earlier
 * of the two times (the sweep moves a row that is early to the logged deadline, never one that is
 * late) and its own `recorded_at`, which a drop of the first try's row then no longer matches.
 */
export async function recordDeadline(db: Db, jobId: string, userId: string, cancelAt: Date, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO job_deadlines (job_id, user_id, cancel_at, recorded_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (job_id) DO UPDATE SET cancel_at = LEAST(job_deadlines.cancel_at, EXCLUDED.cancel_at), recorded_at = EXCLUDED.recorded_at`,
    [jobId, userId, cancelAt, now],
  );
}

/** Deadlines that have come by `now`, the earliest first. */
export async function dueDeadlines(db: Db, now: Date, limit: number): Promise<DueDeadline[]> {
  const rows: { job_id: string; user_id: string; recorded_at: Date }[] = await db.query(
    `SELECT job_id, user_id, recorded_at FROM job_deadlines WHERE cancel_at <= $1 ORDER BY cancel_at LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => ({ jobId: r.job_id, userId: r.user_id, recordedAt: new Date(r.recorded_at) }));
}

/** `recordedAt`: only the row one submit wrote, not one a retry of that submit has taken over since. */
export async function dropDeadline(db: Db, jobId: string, recordedAt?: Date): Promise<void> {
  await db.query(`DELETE FROM job_deadlines WHERE job_id = $1 AND ($2::timestamptz IS NULL OR recorded_at = $2)`, [jobId, recordedAt ?? null]);
}

/** Puts the row's deadline at `cancelAt`: the log's own (its JobSubmitted came a moment after the row), or a later try. */
export async function moveDeadline(db: Db, jobId: string, cancelAt: Date): Promise<void> {
  await db.query(`UPDATE job_deadlines SET cancel_at = $2 WHERE job_id = $1`, [jobId, cancelAt]);
}
