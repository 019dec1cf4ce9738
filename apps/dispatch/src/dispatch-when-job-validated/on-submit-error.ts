import { jobStreamId } from '@reelay/contracts';
import { loadStreamState } from '@reelay/event-store';
import type { JobState } from '@reelay/job-domain';
import { MODEL_UNAVAILABLE, type ProviderError } from '@reelay/providers';
import { DONE, type DispatchJobDeps, type DispatchOutcome, type Run } from './dispatch-job.deps';
import { failRetiredModel } from './job-failures';
import { searchable } from './provider-abilities';
import { failoverProvider } from './provider-candidates';
import { decideSubmitFailure, LISTING_LAG_MS, serverRetries, type SubmitFailureDecision } from './submit-failure-policy';
import { dispatchView, type SubmissionHistory } from './submission-history';

/** Submit errors that say the provider (not this job) is failing; they count toward its circuit. */
const CIRCUIT_KINDS: ReadonlySet<string> = new Set(['server', 'timeout', 'auth', 'billing']);
export const countsTowardCircuit = (err: Pick<ProviderError, 'kind'> & { notProviderFault?: boolean }): boolean => CIRCUIT_KINDS.has(err.kind) && !err.notProviderFault;

/** Returned by onSubmitError when the job goes on to `provider`, where its slot is taken already. */
export type Failover = { kind: 'failover'; provider: string };

export type SubmitError = { kind: Parameters<typeof decideSubmitFailure>[0]['kind']; retryAfterMs?: number; retryable?: boolean; detail: string; providerCode?: string; notProviderFault?: boolean };

/** A try that may have made a task never fails over: the job stays with that provider. */
export function onSubmitError(deps: DispatchJobDeps, run: Run, job: JobState, provider: string, err: SubmitError, taskMayExist: true): Promise<DispatchOutcome>;
export function onSubmitError(deps: DispatchJobDeps, run: Run, job: JobState, provider: string, err: SubmitError, taskMayExist: boolean): Promise<DispatchOutcome | Failover>;
export async function onSubmitError(
  deps: DispatchJobDeps,
  run: Run,
  job: JobState,
  provider: string,
  err: SubmitError,
  /** The try got no answer (or its lookup failed): should the job fail now, a task made by it may run. */
  taskMayExist: boolean,
): Promise<DispatchOutcome | Failover> {
  const jobId = job.jobId;
  const { history, job: fresh } = (await loadStreamState(deps.store, jobStreamId(jobId), dispatchView)).state;
  const now = deps.now();
  if (fresh.submissionRetries > job.submissionRetries) {
    // An earlier call recorded this refusal and lost the append's reply (untilRecorded calls again):
    // decided again on a history that counts it, it would record a second retry for one try.
    if (countsTowardCircuit(err)) await noteCircuitFailure(deps, provider);
    return recordedOutcome(history, now);
  }
  const retired = err.kind === 'not_found' && err.providerCode === MODEL_UNAVAILABLE;
  if (err.kind === 'auth' || err.kind === 'billing') {
    // Every job would meet the same answer (a revoked key, an exhausted account): the circuit
    // sends the next ones to another provider of the model, where there is one.
    deps.logger.error({ provider, kind: err.kind, providerCode: err.providerCode }, 'provider refused our account: check its API key and billing');
  } else if (err.kind === 'not_found') {
    deps.logger.error({ jobId, provider, providerCode: err.providerCode, detail: err.detail }, `provider does not know the model or route: check ${provider.toUpperCase()}_MODEL_IDS and the catalog`);
  }
  const failure = { kind: err.kind, retryAfterMs: err.retryAfterMs, retryable: err.retryable, maybeDelivered: taskMayExist };
  const decision: SubmitFailureDecision = retired ? { action: 'fail', errorCode: 'validation_failed' } : decideSubmitFailure(failure, history, now, deps.policy, 0.8 + Math.random() * 0.4);
  deps.logger.warn({ jobId, provider, kind: err.kind, providerCode: err.providerCode, detail: err.detail, action: decision.action }, 'provider submit failed');
  let outcome: DispatchOutcome | Failover = DONE;
  // A task the last try may have made is looked up once more, after the provider lists it, before
  // the job fails with a task of unknown fate (billed, and followed by nothing).
  const lastLookup = decision.action === 'fail' && taskMayExist && (err.kind === 'server' || err.kind === 'timeout') && searchable(deps, provider) && serverRetries(history) === deps.policy.serverMaxRetries;
  const next = decision.action === 'fail' && !taskMayExist && FAILOVER_KINDS.has(err.kind) ? await failoverProvider(deps, job, history) : null;
  if (lastLookup) {
    const retryAt = new Date(now.getTime() + LISTING_LAG_MS);
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: 'provider_error', retryAt, answersRetries: job.submissionRetries, now: at }));
    outcome = { kind: 'later', delayMs: LISTING_LAG_MS, why: 'retry' };
  } else if (next) {
    // The refusal is recorded first, so the intent that follows at `next` is a try of its own; with
    // `next` in it, a delivery after a crash or a wait for next's submit cap goes there too, not back.
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: err.kind === 'rate_limited' ? 'rate_limited' : 'provider_error', retryAt: at, nextProvider: next, answersRetries: job.submissionRetries, now: at }));
    deps.logger.warn({ jobId, from: provider, to: next, kind: err.kind }, 'provider refused the job; sending it to the next provider of its model');
    outcome = { kind: 'failover', provider: next };
  } else if (retired) {
    const detail = `${provider} submit: not_found (${err.providerCode}): ${err.detail}`;
    outcome = await failRetiredModel(deps, run, jobId, job.model, { detail, providerTaskMayExist: taskMayExist });
    if (!taskMayExist) await deps.slots.release(jobId);
  } else if (decision.action === 'retry') {
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: decision.reason, retryAt: decision.retryAt, answersRetries: job.submissionRetries, now: at }));
    outcome = { kind: 'later', delayMs: Math.max(0, decision.retryAt.getTime() - now.getTime()), why: 'retry' };
  } else {
    const detail = `${provider} submit: ${err.kind}${err.providerCode ? ` (${err.providerCode})` : ''}: ${err.detail}`;
    await run((at) => ({ type: 'Fail', errorCode: decision.errorCode, detail, ...(taskMayExist ? { providerTaskMayExist: true } : {}), now: at }));
    // Else the slot sweep frees it after DISPATCH_UNTRACKED_TASK_HOLD_MS.
    if (!taskMayExist) await deps.slots.release(jobId);
  }
  // After the answer is in the log, which is what the next delivery acts on; the circuit is a hint.
  if (countsTowardCircuit(err)) await noteCircuitFailure(deps, provider);
  return outcome;
}

/** What a refusal already in the log leads to: on to the provider it named, or back when its retry is due. */
function recordedOutcome(history: SubmissionHistory, now: Date): DispatchOutcome | Failover {
  if (history.failoverTo) return { kind: 'failover', provider: history.failoverTo };
  return { kind: 'later', delayMs: Math.max(0, (history.pendingRetryAt?.getTime() ?? now.getTime()) - now.getTime()), why: 'retry' };
}

/** A provider failure for its circuit, once the job's answer is in the log (the circuit is a hint: a failing write only logs). */
export async function noteCircuitFailure(deps: DispatchJobDeps, provider: string): Promise<void> {
  await deps.circuit
    .recordFailure(provider)
    .then((opened) => opened && deps.logger.warn({ provider }, 'provider circuit is open'))
    .catch((e: unknown) => deps.logger.warn({ provider, err: String(e) }, 'could not record a provider failure in its circuit'));
}

/**
 * Refusals after which a job may go to another provider of its model: the provider answered, so it
 * holds no task of the job, and the reason is the provider's (its account, its model ids, its
 * outage or quota, a limit of its own), not the job's content. Moderation and an unreadable
 * reference image would meet the same answer anywhere.
 */
const FAILOVER_KINDS: ReadonlySet<string> = new Set(['auth', 'billing', 'not_found', 'server', 'timeout', 'rate_limited', 'invalid_request']);
