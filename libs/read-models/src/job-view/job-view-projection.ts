import { type RecordedEvent } from '@reelay/contracts';
import { EventStore, ProjectionRunner, type ProjectionWrite } from '@reelay/event-store';
import { foldRecordedJob, toPublicJob } from '@reelay/job-domain';
import type { QueryRunner } from 'typeorm';

export const JOB_VIEW_PROJECTION = 'job_view';

const COLUMNS = ['job_id', 'user_id', 'status', 'message', 'error_code', 'model', 'provider', 'progress', 'created_at', 'updated_at', 'completed_at', 'version', 'job'];

/** One statement for every row of a batch: rows only move forward (version guard). */
function upsertSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`).join(',\n    ');
  return `
  INSERT INTO job_view (${COLUMNS.join(', ')})
  VALUES ${values}
  ON CONFLICT (job_id) DO UPDATE SET
    status = EXCLUDED.status, message = EXCLUDED.message, error_code = EXCLUDED.error_code, model = EXCLUDED.model,
    provider = EXCLUDED.provider, progress = EXCLUDED.progress, updated_at = EXCLUDED.updated_at,
    completed_at = EXCLUDED.completed_at, version = EXCLUDED.version, job = EXCLUDED.job
  WHERE job_view.version < EXCLUDED.version`;
}

/**
 * A batch of log events as job_view's write: every job stream touched by the batch is read (one
 * query for all of them, inside the runner's transaction), folded up to the newest version in the
 * batch, and all rows go into one statement, which the runner sends with the checkpoint save. Two
 * round trips per batch, whatever its size.
 */
export async function projectJobView(store: EventStore, events: RecordedEvent[], tx: QueryRunner): Promise<ProjectionWrite | void> {
  const newest = new Map<string, number>();
  for (const e of events) if (e.streamId.startsWith('job-')) newest.set(e.streamId, Math.max(newest.get(e.streamId) ?? 0, e.streamVersion));
  if (newest.size === 0) return;
  const streams = await store.readStreams([...newest.keys()], { tx });
  const params: unknown[] = [];
  for (const [streamId, upTo] of newest) {
    const { state } = foldRecordedJob((streams.get(streamId) ?? []).filter((e) => e.streamVersion <= upTo));
    if (!state.exists) continue;
    const job = toPublicJob(state, upTo);
    params.push(
      job.id, state.userId, job.status, job.message, job.errorCode, job.model, job.provider, job.progress,
      job.createdAt, job.updatedAt, job.completedAt, job.version, JSON.stringify(job),
    );
  }
  if (params.length) return { sql: upsertSql(params.length / COLUMNS.length), params };
}

/**
 * job_view serves the job list, which may trail the log by a moment (a single job is read from its
 * stream), so it catches up at most every JOB_VIEW_MIN_BATCH_INTERVAL_MS instead of on every commit.
 */
export const JOB_VIEW_MIN_BATCH_INTERVAL_MS = 100;

export function createJobViewProjection(
  store: EventStore,
  opts: { pollIntervalMs?: number; minBatchIntervalMs?: number; onError?: (err: unknown) => void } = {},
): ProjectionRunner {
  return new ProjectionRunner({
    name: JOB_VIEW_PROJECTION,
    store,
    dataSource: store.dataSource,
    project: (events, tx) => projectJobView(store, events, tx),
    pollIntervalMs: opts.pollIntervalMs,
    minBatchIntervalMs: opts.minBatchIntervalMs ?? JOB_VIEW_MIN_BATCH_INTERVAL_MS,
    onError: opts.onError,
  });
}

/**
 * Drops job_view and rebuilds it from the whole log (operator command). The table is emptied and
 * refilled in batches, so listings are incomplete until it finishes; single jobs are read from the
 * log and are unaffected.
 */
export function rebuildJobView(store: EventStore): Promise<number> {
  return createJobViewProjection(store).rebuild('TRUNCATE job_view');
}
