import { type RecordedEvent } from '@reelay/contracts';
import { EventStore, ProjectionRunner, type CatchUpProgress, type ProjectionWrite } from '@reelay/event-store';
import { foldRecordedJob, toPublicJob, type JobState } from '@reelay/job-domain';
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

/** Key of the states this projection keeps in the store's cache: its own, so each is exactly a fold it made. */
const JOB_VIEW_FOLD = { projection: JOB_VIEW_PROJECTION };

/**
 * A batch of log events as job_view's write: every job stream touched by the batch is folded up to
 * its newest version in the batch, and all rows go into one statement, which the runner sends with
 * the checkpoint save. A stream's fold starts from the state this projection folded at an earlier
 * batch when the batch holds exactly the events after it (or from nothing when the batch holds the
 * stream's first event); the other streams are read, in one query inside the runner's transaction.
 * Once running, a batch therefore reads no stream at all: each event is folded once.
 */
export async function projectJobView(store: EventStore, events: RecordedEvent[], tx: QueryRunner): Promise<ProjectionWrite | void> {
  const tails = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    if (!e.streamId.startsWith('job-')) continue;
    const tail = tails.get(e.streamId);
    if (tail) tail.push(e);
    else tails.set(e.streamId, [e]);
  }
  if (tails.size === 0) return;
  const folded = new Map<string, { state: JobState; version: number }>();
  const misses: string[] = [];
  for (const [streamId, tail] of tails) {
    const from = tail[0]!.streamVersion === 1 ? undefined : store.states.get<JobState>(JOB_VIEW_FOLD, streamId);
    if (continues(from?.version ?? 0, tail)) folded.set(streamId, foldRecordedJob(tail, from));
    else misses.push(streamId);
  }
  const streams = misses.length ? await store.readStreams(misses, { tx }) : new Map<string, RecordedEvent[]>();
  for (const streamId of misses) {
    const upTo = Math.max(...tails.get(streamId)!.map((e) => e.streamVersion));
    folded.set(streamId, foldRecordedJob((streams.get(streamId) ?? []).filter((e) => e.streamVersion <= upTo)));
  }
  const params: unknown[] = [];
  for (const [streamId, { state, version }] of folded) {
    // Kept even if the transaction rolls back: the retried batch then does not continue it, and is read.
    store.states.set(JOB_VIEW_FOLD, streamId, state, version);
    if (!state.exists) continue;
    const job = toPublicJob(state);
    params.push(
      job.id, state.userId, job.status, job.message, job.errorCode, job.model, job.provider, job.progress,
      job.createdAt, job.updatedAt, job.completedAt, job.version, JSON.stringify(job),
    );
  }
  if (params.length) return { sql: upsertSql(params.length / COLUMNS.length), params };
}

/** The batch's events of one stream are exactly the versions after `version`, in order. */
function continues(version: number, tail: readonly RecordedEvent[]): boolean {
  return tail.every((e, i) => e.streamVersion === version + 1 + i);
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
export function rebuildJobView(store: EventStore, onProgress?: CatchUpProgress): Promise<number> {
  return createJobViewProjection(store).rebuild(['TRUNCATE job_view'], onProgress);
}
