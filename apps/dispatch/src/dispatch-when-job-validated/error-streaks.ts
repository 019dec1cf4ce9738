import type { DataSource } from 'typeorm';

/** Errors further apart than this do not continue a streak: the job did something else in between. */
export const STREAK_GAP_MS = 10 * 60_000;

export interface ErrorStreak {
  firstAt: Date;
  errors: number;
}

/**
 * The unexpected errors each job's dispatch met in a row, shared by every replica (a failing
 * delivery comes back to any of them) and kept over restarts. A delivery that throws comes back
 * within a minute (the transport's backoff is capped there), so an error that follows the last one
 * within STREAK_GAP_MS continues its streak; a later one starts a new streak.
 */
export class ErrorStreaks {
  constructor(private readonly dataSource: DataSource) {}

  async note(jobId: string, error: string, now: Date): Promise<ErrorStreak> {
    const [row]: { first_at: Date; errors: number }[] = await this.dataSource.query(
      `INSERT INTO dispatch_error_streaks AS s (job_id, first_at, last_at, errors, last_error) VALUES ($1, $2, $2, 1, $3)
       ON CONFLICT (job_id) DO UPDATE SET
         first_at = CASE WHEN s.last_at < $2::timestamptz - $4 * interval '1 millisecond' THEN $2 ELSE s.first_at END,
         errors = CASE WHEN s.last_at < $2::timestamptz - $4 * interval '1 millisecond' THEN 1 ELSE s.errors + 1 END,
         last_at = GREATEST(s.last_at, $2), last_error = $3
       RETURNING first_at, errors`,
      [jobId, now, error, STREAK_GAP_MS],
    );
    return { firstAt: new Date(row!.first_at), errors: row!.errors };
  }

  async forget(jobId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM dispatch_error_streaks WHERE job_id = $1`, [jobId]);
  }

  /** Removes the streaks no error can continue any more (their job got past the error, or ended). */
  async forgetEnded(now: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM dispatch_error_streaks WHERE last_at < $1`, [new Date(now.getTime() - STREAK_GAP_MS)]);
  }
}
