import { UsageError } from '../args';
import type { CliContext } from '../context';

const USAGE = 'webhooks list <jobId> [--attempts] | webhooks redeliver <jobId>';

/*
 * Reads and resets notification's delivery tables (their shape is notification's migrations): what
 * a user's webhook endpoint was sent for a job, with every attempt, and a way to send the ones
 * given up on once more after the endpoint is fixed.
 */
export async function webhooksCommand(ctx: CliContext, [sub, jobId]: string[], options: Record<string, string>): Promise<void> {
  if (!jobId || (sub !== 'list' && sub !== 'redeliver')) throw new UsageError(USAGE);
  const [{ present }] = await ctx.ds.query(`SELECT to_regclass('webhook_deliveries') IS NOT NULL AS present`);
  if (!present) throw new UsageError('no webhook deliveries in this database: notification has not run against it');
  if (sub === 'list') {
    const rows: Record<string, unknown>[] = await ctx.ds.query(
      `SELECT version, event_type AS "type", url, status, attempts, last_http_status AS "lastHttpStatus", last_error AS "lastError",
              last_attempt_at AS "lastAttemptAt", next_attempt_at AS "nextAttemptAt", delivered_at AS "deliveredAt", failed_at AS "failedAt"
       FROM webhook_deliveries WHERE job_id = $1 ORDER BY version`,
      [jobId],
    );
    const attempts: { version: number }[] = options.attempts
      ? await ctx.ds.query(
          `SELECT version, attempt, at, outcome, http_status AS "httpStatus", error, duration_ms AS "durationMs" FROM webhook_attempts WHERE job_id = $1 ORDER BY version, attempt, id`,
          [jobId],
        )
      : [];
    for (const row of rows) ctx.out(JSON.stringify(options.attempts ? { ...row, attemptLog: attempts.filter((a) => a.version === row.version) } : row));
    if (!rows.length) ctx.out('no webhook deliveries for this job');
    return;
  }
  // Due at once, behind nothing of the same job that is still pending; one more attempt each (their
  // attempt count stays at the maximum, so a failure gives up again rather than starting over).
  const [{ n }] = await ctx.ds.query(
    `WITH again AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), failed_at = NULL, updated_at = now()
       WHERE job_id = $1 AND status = 'failed' RETURNING 1)
     SELECT count(*)::int AS n FROM again`,
    [jobId],
  );
  ctx.out(JSON.stringify({ jobId, redelivering: n }));
}
