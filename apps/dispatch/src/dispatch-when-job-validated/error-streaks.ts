import type { DataSource } from 'typeorm';

/** Errors further apart than this do not continue a streak (a message re-published, a consumer recreated). */
export const STREAK_GAP_MS = 10 * 60_000;

export interface ErrorStreak {
  firstAt: Date;
  errors: number;
}

/**
 * The errors of a job's JobValidated deliveries, counted only while every delivery since the first
 * error threw, shared by every replica (a failing delivery comes back to any of them) and kept over
 * restarts. JetStream numbers a message's deliveries (a delayed nak, an ack wait passing and a
 * thrown error each make the next one), so a streak of n errors from delivery d continues only at
 * delivery d + n: a delivery in between that waited for capacity, found the job busy, or failed
 * without being counted (PostgreSQL unreachable) starts the next error's streak over. A job waiting
 * for a slot is delivered about once a second, so occasional errors among those waits never add up.
 */
export class ErrorStreaks {
  constructor(private readonly dataSource: DataSource) {}

  async note(jobId: string, delivery: number, error: string, now: Date): Promise<ErrorStreak> {
    const [row]: { first_at: Date; errors: number }[] = await this.dataSource.query(
      `INSERT INTO dispatch_error_streaks AS s (job_id, first_at, first_delivery, last_at, errors, last_error) VALUES ($1, $2, $3, $2, 1, $4)
       ON CONFLICT (job_id) DO UPDATE SET
         (first_at, first_delivery, errors) = (
           SELECT CASE WHEN go_on THEN s.first_at ELSE $2 END, CASE WHEN go_on THEN s.first_delivery ELSE $3 END, CASE WHEN go_on THEN s.errors + 1 ELSE 1 END
           FROM (SELECT s.first_delivery + s.errors = $3 AND s.last_at >= $2::timestamptz - $5 * interval '1 millisecond' AS go_on) c
         ),
         last_at = GREATEST(s.last_at, $2), last_error = $4
       RETURNING first_at, errors`,
      [jobId, now, delivery, error, STREAK_GAP_MS],
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
