import { type RecordedEvent } from '@reelay/contracts';
import { EventStore, ProjectionRunner } from '@reelay/event-store';
import { foldRecordedJob, toPublicJob } from '@reelay/job-domain';
import type { QueryRunner } from 'typeorm';

export const JOB_VIEW_PROJECTION = 'job_view';

const UPSERT_SQL = `
  INSERT INTO job_view (job_id, user_id, status, message, error_code, model, provider, progress, created_at, updated_at, completed_at, version, job)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  ON CONFLICT (job_id) DO UPDATE SET
    status = EXCLUDED.status, message = EXCLUDED.message, error_code = EXCLUDED.error_code, model = EXCLUDED.model,
    provider = EXCLUDED.provider, progress = EXCLUDED.progress, updated_at = EXCLUDED.updated_at,
    completed_at = EXCLUDED.completed_at, version = EXCLUDED.version, job = EXCLUDED.job
  WHERE job_view.version < EXCLUDED.version`;

/**
 * Applies a batch of log events to job_view: each job stream touched by the batch is folded from its
 * first event up to the newest version in the batch (inside the runner's transaction) and its row
 * replaced by the public job at that version. Rows only move forward (version guard).
 */
export async function projectJobView(store: EventStore, events: RecordedEvent[], tx: QueryRunner): Promise<void> {
  const newest = new Map<string, number>();
  for (const e of events) if (e.streamId.startsWith('job-')) newest.set(e.streamId, Math.max(newest.get(e.streamId) ?? 0, e.streamVersion));
  for (const [streamId, upTo] of newest) {
    const stream = (await store.readStream(streamId, 1, { tx })).filter((e) => e.streamVersion <= upTo);
    const { state } = foldRecordedJob(stream);
    if (!state.exists) continue;
    const job = toPublicJob(state, upTo);
    await tx.query(UPSERT_SQL, [
      job.id, state.userId, job.status, job.message, job.errorCode, job.model, job.provider, job.progress,
      job.createdAt, job.updatedAt, job.completedAt, job.version, JSON.stringify(job),
    ]);
  }
}

export function createJobViewProjection(store: EventStore, opts: { pollIntervalMs?: number; onError?: (err: unknown) => void } = {}): ProjectionRunner {
  return new ProjectionRunner({
    name: JOB_VIEW_PROJECTION,
    store,
    dataSource: store.dataSource,
    project: (events, tx) => projectJobView(store, events, tx),
    pollIntervalMs: opts.pollIntervalMs,
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
