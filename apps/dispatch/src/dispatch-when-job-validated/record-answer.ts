import { IllegalTransitionError } from '@reelay/job-domain';
import { isProviderError, type ProviderAdapter } from '@reelay/providers';
import { DONE, timed, type DispatchJobDeps, type DispatchOutcome, type Run } from './dispatch-job.deps';
import { findsBySubmissionKey } from './provider-abilities';

/** About a minute in all: a database restart or failover, a pool that was exhausted for a moment. */
export const RECORD_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000];

/** The waits of RECORD_RETRY_DELAYS_MS that fit in `budgetMs`, the last one cut to fit. */
export function recordRetryDelays(budgetMs: number): number[] {
  const delays: number[] = [];
  let left = budgetMs;
  for (const d of RECORD_RETRY_DELAYS_MS) {
    if (left <= 0) break;
    delays.push(Math.min(d, left));
    left -= d;
  }
  return delays;
}

export async function recordAccepted(deps: DispatchJobDeps, run: Run, provider: string, providerTaskId: string): Promise<DispatchOutcome> {
  // Status changes are counted by notification, which sees every job event once.
  const result = await run((now) => ({ type: 'RecordProviderAccepted', provider, providerTaskId, now }));
  if (!result.events.length) return DONE;
  if (result.state.status === 'canceled') {
    // Recorded as a task of a canceled job: polling stops it, or checks it until it ends, and the slot is held until then.
    deps.logger.info({ provider, providerTaskId }, 'provider accepted the job after it was canceled; its task is stopped or waited out');
  } else {
    deps.logger.info({ provider, providerTaskId }, 'provider accepted the job');
  }
  return DONE;
}

/**
 * Records a provider's answer, trying again for about a minute when the write fails. Until it is in
 * the log the answer lives only in this process: given up at once, the next delivery would find the
 * intent unanswered and, at a provider that cannot be reconciled, fail the job as of unknown outcome
 * (while the provider generates and bills it), or fail a try that was cleanly refused and would have
 * been retried. Repeating the write is harmless: the decider turns a repeat into no event.
 */
export async function untilRecorded<T>(deps: DispatchJobDeps, what: string, fields: Record<string, unknown>, write: () => Promise<T>): Promise<T> {
  const delays = deps.recordRetryDelaysMs ?? RECORD_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (err instanceof IllegalTransitionError || attempt >= delays.length) throw err;
      deps.logger.warn({ ...fields, attempt: attempt + 1, err: String(err) }, `could not record ${what}; trying again`);
      await new Promise((r) => setTimeout(r, delays[attempt]));
    }
  }
}

/**
 * A cancel that won against a submit whose acceptance was never recorded (the process died in
 * between): where the provider can find the task by our key, it is recorded as accepted after the
 * cancel, so that polling stops it (or waits it out) and its capacity slot stays held until then.
 * Elsewhere the task is out of reach. 'absent' (the provider has no task by our key) lets the slot
 * go; 'unknown' (the lookup failed, worth asking again) and 'failed' (refused for good) must not,
 * since a task made by the lost submit may be running.
 */
export async function recordUnrecordedTask(
  deps: DispatchJobDeps,
  run: Run,
  jobId: string,
  intent: { provider: string; submissionKey: string },
  notBefore: Date | null,
): Promise<'recorded' | 'absent' | 'unknown' | 'failed'> {
  const adapter = deps.adapters.get(intent.provider);
  if (!adapter || !findsBySubmissionKey(deps, adapter)) return 'absent';
  let found: string | null;
  try {
    found = await timed(deps, intent.provider, 'find', () => adapter.findBySubmissionKey(intent.submissionKey, undefined, notBefore ?? undefined));
  } catch (err) {
    deps.logger.warn(
      { jobId, provider: intent.provider, err: isProviderError(err) ? err.detail : String(err) },
      'could not look for the task of a job canceled during submit; its slot stays held until the slot sweep frees it',
    );
    return isProviderError(err) && err.retryable ? 'unknown' : 'failed';
  }
  if (!found) return 'absent';
  await recordAccepted(deps, run, intent.provider, found);
  return 'recorded';
}

export async function cancelOrphan(deps: DispatchJobDeps, jobId: string, adapter: ProviderAdapter, providerTaskId: string): Promise<void> {
  if (!adapter.capabilities.cancel || !adapter.cancel) return;
  try {
    await adapter.cancel(providerTaskId);
  } catch (err) {
    deps.logger.warn({ jobId, provider: adapter.name, err: isProviderError(err) ? err.detail : String(err) }, 'could not cancel the task of a job canceled during submit');
  }
}
