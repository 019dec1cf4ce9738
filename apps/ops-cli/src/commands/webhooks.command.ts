import { scrubSecrets } from '@reelay/service-kit';
import { UsageError } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';

const USAGE = 'webhooks list <jobId> [--attempts] | webhooks redeliver <jobId>';

export const webhooksCommand: Command = { subcommands: { list: { attempts: 'switch' }, redeliver: {} }, usage: USAGE, run: webhooks };

/*
 * Reads and resets notification's delivery tables (their shape is notification's migrations): what
 * a user's webhook endpoint was sent for a job, with every attempt, and a way to send the ones
 * given up on once more after the endpoint is fixed.
 */
async function webhooks(ctx: CliContext, [sub, jobId]: string[], options: Record<string, string>): Promise<void> {
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
    for (const row of rows) {
      // A webhook URL may carry a token of the user's in its query.
      const shown = { ...row, url: scrubSecrets(String(row.url)) };
      ctx.out(JSON.stringify(options.attempts ? { ...shown, attemptLog: attempts.filter((a) => a.version === row.version) } : shown));
    }
    if (!rows.length) ctx.out('no webhook deliveries for this job');
    return;
  }
  // Only what comes after the last delivered status change: an older one sent now would reach the
  // endpoint after a newer one (deliveries are in order per job). Due at once, one more attempt
  // each (their attempt count stays at the maximum, so a failure gives up again).
  const [{ n, skipped }] = await ctx.ds.query(
    `WITH delivered AS (SELECT coalesce(max(version), 0) AS v FROM webhook_deliveries WHERE job_id = $1 AND status = 'delivered'),
     again AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), failed_at = NULL, updated_at = now()
       WHERE job_id = $1 AND status = 'failed' AND version > (SELECT v FROM delivered) RETURNING 1)
     SELECT (SELECT count(*)::int FROM again) AS n,
            (SELECT count(*)::int FROM webhook_deliveries, delivered WHERE job_id = $1 AND status = 'failed' AND version < delivered.v) AS skipped`,
    [jobId],
  );
  ctx.out(JSON.stringify({ jobId, redelivering: n, ...(skipped ? { skippedOlderThanDelivered: skipped } : {}) }));
}
