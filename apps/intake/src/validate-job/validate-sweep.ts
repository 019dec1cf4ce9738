import { jobStreamId, metadataCausedBy } from '@reelay/contracts';
import { foldRecordedJob } from '@reelay/job-domain';
import type { Logger } from '@reelay/service-kit';
import type { IntakeDeps } from '../intake.deps';
import { validateJob } from './validate-job.handler';

/** How long a job may wait unvalidated before the sweep validates it. */
export const VALIDATE_SWEEP_MIN_AGE_MS = 10 * 60_000;

/**
 * Safety net for validation: a job whose JobSubmitted delivery was dead-lettered (after hundreds of
 * failed deliveries, an outage of hours) is left queued, or validating with its check unfinished,
 * with its credits held, and nothing else would move it on. The sweep finds jobs the job list shows
 * as queued or validating with no JobValidated in their log and an update older than `minAgeMs`,
 * and validates them as the delivery would have. Jobs that passed validation and wait for a
 * capacity slot are validating too, and are left to dispatch. Validation is idempotent, so the
 * delivery arriving late changes nothing (one replica sweeps at a time: IntakeSweepService).
 * Returns the jobs it validated.
 */
export async function validateUnvalidated(deps: IntakeDeps & { logger: Pick<Logger, 'warn'> }, minAgeMs = VALIDATE_SWEEP_MIN_AGE_MS, limit = 200): Promise<string[]> {
  const rows: { job_id: string }[] = await deps.store.dataSource.query(
    `SELECT v.job_id FROM job_view v
      WHERE v.status IN ('queued', 'validating')
        AND v.version <= 2 -- submitted, validation started: what a job can be before its verdict
        AND v.updated_at < now() - make_interval(secs => $1::double precision / 1000)
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = $3 || v.job_id AND e.type = 'JobValidated')
      ORDER BY v.updated_at LIMIT $2`,
    [minAgeMs, limit, jobStreamId('')],
  );
  const validated: string[] = [];
  for (const { job_id: jobId } of rows) {
    const events = await deps.store.readStream(jobStreamId(jobId));
    const { state } = foldRecordedJob(events);
    if (!state.exists || state.validated || (state.status !== 'queued' && state.status !== 'validating')) continue;
    try {
      await validateJob(deps, jobId, metadataCausedBy(events[0]!));
    } catch (err) {
      // Likely the very failure that dead-lettered its delivery: the next jobs are still swept.
      deps.logger.warn({ jobId, err: String(err) }, 'could not validate a job left unvalidated; trying again at the next sweep');
      continue;
    }
    validated.push(jobId);
  }
  if (validated.length) deps.logger.warn({ jobIds: validated }, 'validated jobs that were waiting without validation (their JobSubmitted delivery was lost or dead-lettered)');
  return validated;
}
