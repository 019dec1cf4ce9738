import { jobStreamId } from '@reelay/contracts';
import { durationSeconds, positiveInt, required, UsageError } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';

const USAGE = 'jobs history <jobId> | jobs list --status <status> [--older-than 30m] [--user <id>] [--limit N]';
const STATUSES = ['queued', 'validating', 'running', 'delayed', 'succeeded', 'failed', 'canceled'];

export const jobsCommand: Command = {
  subcommands: { history: {}, list: { status: 'value', 'older-than': 'value', user: 'value', limit: 'value' } },
  usage: USAGE,
  run: jobs,
};

/**
 * A job's full event history, internal details included (operators only); or the jobs in a status
 * that have not changed for a while (the job list's projection): the ones to look at when they seem stuck.
 */
async function jobs(ctx: CliContext, [sub, jobId]: string[], options: Record<string, string>): Promise<void> {
  if (sub === 'list') return listJobs(ctx, options);
  if (sub !== 'history' || !jobId) throw new UsageError(USAGE);
  const events = await ctx.store.readStream(jobStreamId(jobId));
  if (!events.length) throw new UsageError(`no job ${jobId}`);
  for (const e of events) {
    ctx.out(JSON.stringify({ version: e.streamVersion, type: e.type, recordedAt: e.recordedAt, data: e.data, metadata: e.metadata }));
  }
}

async function listJobs(ctx: CliContext, options: Record<string, string>): Promise<void> {
  const status = required(options, 'status');
  if (!STATUSES.includes(status)) throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
  const age = durationSeconds(options['older-than'] ?? '0s', 'older-than');
  const limit = options.limit ? positiveInt(options.limit, 'limit') : 100;
  const rows: Record<string, unknown>[] = await ctx.ds.query(
    `SELECT job_id AS "jobId", user_id AS "userId", status, model, provider, progress, message, created_at AS "createdAt", updated_at AS "updatedAt"
     FROM job_view
     WHERE status = $1 AND updated_at <= now() - make_interval(secs => $2) AND ($3::text IS NULL OR user_id = $3)
     ORDER BY updated_at LIMIT $4`,
    [status, age, options.user ?? null, limit],
  );
  for (const row of rows) ctx.out(JSON.stringify(row));
  if (!rows.length) ctx.out('no such jobs');
}
