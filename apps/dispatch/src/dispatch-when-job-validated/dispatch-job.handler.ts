import { retiredModelMessage, type Catalog } from '@reelay/catalog';
import { assetKey, signedAssetUrl, type AssetUrlSigner, type BlobStorage } from '@reelay/storage';
import { isTerminal, jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, loadStreamState, type EventStore } from '@reelay/event-store';
import { canceledWithUnansweredSubmit, decideJob, IllegalTransitionError, type JobCommand, type JobState } from '@reelay/job-domain';
import { ReferenceImageUnavailable, type FetchReferenceImage } from './fetch-reference-image';
import { isProviderError, MODEL_UNAVAILABLE, type ProviderAdapter, type ProviderError, type ProviderSubmitRequest } from '@reelay/providers';
import { timedProviderCall, type Logger } from '@reelay/service-kit';
import type { ProviderCircuit } from '../circuit/provider-circuit';
import type { ProviderSlots } from '../capacity/provider-slots';
import type { SubmitBudgets } from '../capacity/submit-budgets';
import type { DispatchMetrics } from '../shared/dispatch-metrics';
import { chooseProvider } from './choose-provider';
import { decideSubmitFailure, LISTING_LAG_MS, lookupOnly, serverRetries, type RetryPolicy, type SubmitFailureDecision } from './submit-failure-policy';
import { dispatchView, type SubmissionHistory } from './submission-history';
import type { SubmitLease, SubmitLocks } from './submit-locks';

export interface DispatchJobDeps {
  store: EventStore;
  catalog: Catalog;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  slots: ProviderSlots;
  /** One delivery at a time works on a job's submission, across replicas. */
  locks: Pick<SubmitLocks, 'tryLock'>;
  circuit: ProviderCircuit;
  policy: RetryPolicy;
  /** Submits per minute per provider (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>); without it, no cap. */
  submitBudgets?: SubmitBudgets;
  capacityWaitMs: number;
  /** Longest a validated job waits for a capacity slot before it fails as provider_rate_limited (0: no limit). */
  capacityWaitMaxMs: number;
  /** How long a slot is held for a task that may exist and that nothing follows (the slot sweep's hold). */
  untrackedTaskHoldMs: number;
  publicBaseUrl?: string;
  /** Where uploaded reference images are kept (shared with the gateway and intake). */
  storage: BlobStorage;
  /** Signs links to uploaded images (ASSET_URL_SECRET and PUBLIC_BASE_URL); without it they go inline as `data:` URLs. */
  assetUrls?: AssetUrlSigner;
  /** Fetches a user's image URL for a provider that takes images inline; without it the adapter fetches. */
  fetchReferenceImage?: FetchReferenceImage;
  metrics: DispatchMetrics;
  logger: Logger;
  now: () => Date;
  /** Test seam: runs after the provider accepted and before the log records it. */
  afterProviderAccepted?: () => void;
  /** Waits between tries to record a provider's answer (default RECORD_RETRY_DELAYS_MS). */
  recordRetryDelaysMs?: readonly number[];
}

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

/** `later`: nothing is wrong, look again after `delayMs` (a pending retry, or no capacity slot free). */
export type DispatchOutcome = { kind: 'done' } | { kind: 'later'; delayMs: number; why: 'retry' | 'capacity' | 'busy' };

/** How soon the task of a job canceled during its submit is looked for again after a failed lookup. */
const LOOKUP_AGAIN_MS = 10_000;

/** How soon a delivery that found the job's submit lock taken looks again (the holder is mid-submit). */
export const BUSY_WAIT_MS = 5_000;

const DONE: DispatchOutcome = { kind: 'done' };

/**
 * validated → submission intent → provider submit → running. Runs on every delivery of
 * JobValidated and works from the log alone, so a redelivery after a crash at any point continues
 * where the log says the job is:
 * - no intent yet: choose a provider (catalog order, healthy circuit), take a capacity slot,
 *   record the intent, submit;
 * - an intent but no task id: the job is pinned to that provider (it may have accepted and bill
 *   us), so reconcile there — find the task by submission key where the provider can list, resubmit
 *   with the same key where it de-duplicates; where the last try was answered with an error, try
 *   again under a new intent recorded first, so that every try's outcome is known or the job
 *   fails; otherwise the outcome is unknown and a resubmission could duplicate the job, so it fails;
 * - a retry pending: come back when it is due.
 */
export async function dispatchJob(deps: DispatchJobDeps, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<DispatchOutcome> {
  const lease = await deps.locks.tryLock(jobId);
  if (!lease) {
    deps.logger.warn({ jobId }, 'another delivery is submitting this job; looking again later');
    return { kind: 'later', delayMs: Math.round(BUSY_WAIT_MS * (0.5 + Math.random())), why: 'busy' };
  }
  try {
    return await dispatchLocked(deps, lease, jobId, metadata, atLeastVersion);
  } finally {
    await lease.release();
  }
}

async function dispatchLocked(deps: DispatchJobDeps, lease: SubmitLease, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<DispatchOutcome> {
  const stream = jobStreamId(jobId);
  const run: Run = async (command) => {
    const result = await handle(deps.store, stream, dispatchView, (view) => decideJob(command(deps.now()), view.job), { metadata, atLeastVersion });
    return { events: result.events, state: result.state.job };
  };
  let accepted: { adapter: ProviderAdapter; providerTaskId: string } | null = null;
  try {
    // Always the fresh state (a tail read): what follows may call the provider before anything is
    // appended, and a cached state could miss a cancel recorded since (a retry would then submit).
    const loaded = (await loadStreamState(deps.store, stream, dispatchView)).state;
    let job = loaded.job;
    const history = loaded.history;
    if (!job.exists || job.status === 'running' || job.status === 'delayed' || !job.validated) return DONE;
    if (isTerminal(job.status)) {
      if (canceledWithUnansweredSubmit(job)) {
        // A submit whose answer a crash lost, for a job canceled since: a task found by our key is
        // recorded (polling then stops it or waits it out, and its slot stays held meanwhile).
        if (searchable(deps, job.intent.provider)) {
          const found = await recordUnrecordedTask(deps, run, jobId, job.intent, history.intentAt);
          if (found === 'recorded') return DONE;
          if (found === 'unknown') {
            // The lookup failed for now: the slot stays held, and the task is looked for again while the
            // slot sweep's hold lasts, so a task the submit made is still recorded (and stopped or waited out).
            const since = history.intentAt ? deps.now().getTime() - history.intentAt.getTime() : 0;
            return since < deps.untrackedTaskHoldMs ? { kind: 'later', delayMs: LOOKUP_AGAIN_MS, why: 'retry' } : DONE;
          }
          // The lookup was refused in a way asking again will not change (our key, the request): the
          // slot stays held until the slot sweep's hold ends.
          if (found === 'failed') return DONE;
        } else if (!history.lastTryRejected) {
          // Where the provider cannot be asked, each try records its own intent, so an intent without
          // an answer may have made a task that nothing follows: the slot sweep frees its slot later.
          return DONE;
        }
      }
      await releaseUnlessTaskRuns(deps, job, jobId);
      return DONE;
    }
    const now = deps.now();
    if (history.pendingRetryAt && history.pendingRetryAt > now) {
      return { kind: 'later', delayMs: history.pendingRetryAt.getTime() - now.getTime(), why: 'retry' };
    }

    let provider: string;
    let submissionKey: string | null = null;
    /** The key the next intent is recorded with: a new one for a new job, the same one for a retry. */
    let intendedKey = `${jobId}:${job.submissionAttempts + 1}`;
    if (job.intent) {
      provider = job.intent.provider;
      const adapter = deps.adapters.get(provider);
      if (!adapter) {
        await failForSetup(deps, run, { jobId, provider }, `submission ${job.intent.submissionKey} was made to ${provider}, which is no longer configured`);
        await deps.slots.release(jobId);
        return DONE;
      }
      const pinned = provider;
      if (!(await deps.slots.forUser(job.userId, jobId, async () => (await takeSlot(deps, jobId, pinned)) || null))) return capacityWait(deps);
      if (findsBySubmissionKey(deps, adapter)) {
        assertHeld(lease, jobId);
        let found: string | null;
        try {
          found = await timed(deps, provider, 'find', () => adapter.findBySubmissionKey(job.intent!.submissionKey, undefined, history.intentAt ?? undefined));
        } catch (err) {
          if (!isProviderError(err)) throw err;
          // A lookup that cannot tell (the task may be older than what can be listed: a server-side
          // answer that retrying will not change) is an unknown outcome. Refusals of our account and
          // the like go the way of a failed submit (circuit included).
          if (err.kind === 'server' && !err.retryable) return await failUnknownOutcome(deps, run, jobId, provider, job.intent.submissionKey, err.detail);
          // A failing lookup counts against the attempt's retry budget like a failing submit, so it ends.
          return await onSubmitError(deps, run, job, provider, err, true);
        }
        if (found) {
          deps.logger.info({ jobId, provider, submissionKey: job.intent.submissionKey }, 'reconciled: the provider already has the task');
          // Recorded like a fresh acceptance: a cancel that won meanwhile cancels the task found (below).
          accepted = { adapter, providerTaskId: found };
          return await recordAccepted(deps, run, adapter, provider, found);
        }
        if (lookupOnly(history, deps.policy)) {
          // The last try timed out with the budget spent, and the provider lists no task by our key
          // yet. An overloaded provider may still be making it, so this is no proof there is none:
          // the job fails with a task that may exist (its slot held), and is sent nowhere else.
          const detail = `no task found by submission key ${job.intent.submissionKey} after the last try went unanswered`;
          return await onSubmitError(deps, run, job, provider, { kind: 'server', retryable: false, notProviderFault: true, detail }, true);
        }
        submissionKey = job.intent.submissionKey;
      } else if (adapter.capabilities.idempotencyKey) {
        submissionKey = job.intent.submissionKey;
      } else if (history.lastTryRejected) {
        // The last try was answered with an error, so the provider holds no task from it. This try
        // records an intent of its own before the call (below), under the same key: should the
        // process die after the provider accepted it, the next delivery finds that intent
        // unanswered and fails the job rather than submit once more.
        intendedKey = job.intent.submissionKey;
      } else {
        // The last try's outcome is unknown (we died after recording the intent) and this provider
        // can neither find a task by our key nor de-duplicate: it may have accepted the job already.
        // Submitting again could make it generate (and bill) twice, so the job fails instead.
        return await failUnknownOutcome(deps, run, jobId, provider, job.intent.submissionKey, 'after a restart');
      }
    } else {
      const entry = deps.catalog.get(job.model);
      const retiredOn = entry ? null : deps.catalog.retiredOn(job.model);
      if (retiredOn) return failRetiredModel(deps, run, jobId, job.model, { day: retiredOn });
      const { serving, candidates } = providersFor(deps, job);
      if (candidates.length === 0) {
        return failForSetup(deps, run, { jobId, model: job.model }, serving.length === 0 ? `no configured provider serves model ${job.model}` : uploadNeedsLinkDetail(serving));
      }
      const chosen = await deps.slots.forUser(job.userId, jobId, () => chooseProvider(candidates, (p) => deps.circuit.allows(p), (p) => takeSlot(deps, jobId, p)));
      if (!chosen) {
        if (await failedPastCapacityDeadline(deps, run, job, history, now, `no capacity slot at ${candidates.join(', ')}`)) return DONE;
        return capacityWait(deps);
      }
      provider = chosen;
    }

    /** Set once the job goes on to another provider below: its turn under that provider's cap is waited for here. */
    let failedOver = false;
    for (;;) {
      // A job pinned to its provider by an earlier try (refused, or not found by our key) whose model
      // that provider has retired since: no task of it exists, and sending it again cannot succeed.
      const retiredOn = deps.catalog.atProvider(job.model, provider)?.retiredOn;
      if (retiredOn) return failRetiredModel(deps, run, jobId, job.model, { day: retiredOn });

      // The provider's submit rate cap, before anything is built or recorded: waiting leaves no intent
      // behind, and the slot taken above stays held meanwhile.
      const turn = await waitForSubmitTurn(deps, lease, jobId, provider, failedOver);
      if (turn) {
        if (!job.intent && (await failedPastCapacityDeadline(deps, run, job, history, now, `no turn under ${provider}'s submit cap`))) return DONE;
        return turn;
      }

      const adapter = deps.adapters.get(provider)!;
      // The request is built (reference image read or fetched) before the intent is recorded: a
      // failure here must leave no intent behind, or the next delivery would take this try's outcome
      // as unknown and fail a job that was never sent.
      let request: ProviderSubmitRequest;
      try {
        request = await submitRequest(deps, job, provider, submissionKey ?? intendedKey);
      } catch (err) {
        if (err instanceof UploadNeedsLinkError) return failForSetup(deps, run, { jobId, provider }, err.message);
        if (err instanceof InlineImageTooLargeError) {
          deps.logger.warn({ jobId, provider }, err.message);
          const message = `The reference image is too large for ${job.model}: upload one of at most ${Math.floor(err.maxBytes / 100_000) / 10} MB.`;
          await run((now) => ({ type: 'Fail', errorCode: 'validation_failed', message, detail: err.message, now }));
          return DONE;
        }
        if (!(err instanceof MissingAssetError) && !(err instanceof ReferenceImageUnavailable)) throw err;
        await run((now) => ({ type: 'Fail', errorCode: 'asset_fetch_failed', detail: err.message, now }));
        return DONE;
      }

      if (!submissionKey) {
        // Checked before the intent too: an intent recorded and then left unsent (the check below
        // throwing) would read as a try of unknown outcome, and the next delivery would fail the job.
        assertHeld(lease, jobId);
        const attempt = job.submissionAttempts + 1;
        const recorded = await run((now) => ({ type: 'RecordSubmissionIntent', provider, attempt, submissionKey: intendedKey, now }));
        if (recorded.events.length === 0 || recorded.state.intent?.submissionKey !== intendedKey) return DONE;
        submissionKey = intendedKey;
      }

      let providerTaskId: string;
      assertHeld(lease, jobId);
      try {
        providerTaskId = (await timed(deps, provider, 'submit', () => adapter.submit(request))).providerTaskId;
      } catch (err) {
        if (!isProviderError(err)) throw err;
        if (err.maybeDelivered && !canReconcile(deps, adapter)) {
          const outcome = await failUnknownOutcome(deps, run, jobId, provider, submissionKey, err.detail);
          // After the failure is in the log: a failing circuit write must not leave it unrecorded.
          await noteCircuitFailure(deps, provider);
          return outcome;
        }
        const refused = job;
        const outcome = await untilRecorded(deps, 'the refused submit', { jobId, provider, kind: err.kind }, () => onSubmitError(deps, run, refused, provider, err, err.maybeDelivered));
        if (outcome.kind !== 'failover') return outcome;
        // Refused for good here, and no task was made: sent on to the next provider of the model
        // (its slot taken there already), as a new try under a new key.
        provider = outcome.provider;
        failedOver = true;
        job = (await loadStreamState(deps.store, stream, dispatchView)).state.job;
        submissionKey = null;
        intendedKey = `${jobId}:${job.submissionAttempts + 1}`;
        continue;
      }
      accepted = { adapter, providerTaskId };
      deps.afterProviderAccepted?.();
      let outcome: DispatchOutcome;
      try {
        outcome = await untilRecorded(deps, 'the acceptance', { jobId, provider, providerTaskId }, () => recordAccepted(deps, run, adapter, provider, providerTaskId));
      } catch (err) {
        if (err instanceof IllegalTransitionError) throw err;
        // The next delivery will find the intent unanswered. Where it can find the task by our key it
        // records it then, so the task is left to run; elsewhere it fails the job, so the task is
        // stopped where the provider lets us, and named for an operator.
        deps.logger.error({ jobId, provider, providerTaskId, err: String(err) }, 'the provider accepted the job but the acceptance could not be recorded');
        if (!findsBySubmissionKey(deps, adapter)) await cancelOrphan(deps, jobId, adapter, providerTaskId);
        throw err;
      }
      // After the acceptance is in the log: a failing circuit write must not leave it unrecorded.
      await deps.circuit.recordSuccess(provider).catch((err: unknown) => deps.logger.warn({ provider, err: String(err) }, 'could not record a provider success in its circuit'));
      return outcome;
    }
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    // Canceled (or otherwise finished) meanwhile: nothing to submit any more.
    const { job } = (await loadStreamState(deps.store, stream, dispatchView)).state;
    if (isTerminal(job.status)) {
      if (accepted) await cancelOrphan(deps, jobId, accepted.adapter, accepted.providerTaskId);
      else if (canceledWithUnansweredSubmit(job) && searchable(deps, job.intent.provider)) {
        // The submit failed while the user canceled, maybe after reaching the provider (a timeout):
        // the next delivery, once a task made by it would be listed, looks it up by our key (the
        // terminal case above) and records it or frees the slot.
        return { kind: 'later', delayMs: LISTING_LAG_MS, why: 'retry' };
      }
      await releaseUnlessTaskRuns(deps, job, jobId);
    }
    return DONE;
  }
}

/**
 * Frees a finished job's slot unless its provider task may still run: one that outlived the cancel
 * keeps the slot until polling records its end, one a lost answer may have made until the slot sweep's hold.
 */
async function releaseUnlessTaskRuns(deps: DispatchJobDeps, job: JobState, jobId: string): Promise<void> {
  if (!job.providerTaskOpen && !job.providerTaskMayExist) await deps.slots.release(jobId);
}

/**
 * Before a provider call: with the lock session gone, another replica may be working on the job
 * already. Thrown, the delivery is retried and takes the lock again.
 */
function assertHeld(lease: SubmitLease, jobId: string): void {
  if (!lease.held) throw new Error(`lost the submit lock of job ${jobId} (its database session ended); not calling the provider`);
}

type Run = (command: (now: Date) => JobCommand) => Promise<{ events: unknown[]; state: JobState }>;

/**
 * A job this installation's settings cannot send anywhere (a provider gone from them, a link it
 * cannot make): redelivering would not change that, so the job ends with a status a person can
 * read, and the operator finds why in the log and the event's detail.
 */
async function failForSetup(deps: DispatchJobDeps, run: Run, fields: Record<string, unknown>, detail: string): Promise<DispatchOutcome> {
  deps.logger.error(fields, detail);
  await run((now) => ({ type: 'Fail', errorCode: 'unknown_provider_error', detail, now }));
  return DONE;
}

/**
 * The job's model stopped being served after the job was accepted (an announced retirement, or the
 * provider's answer): the user can only choose another model, so the job fails with a message saying
 * so, not as an unexplained provider error.
 */
async function failRetiredModel(
  deps: DispatchJobDeps,
  run: Run,
  jobId: string,
  model: string,
  how: { day?: string; detail?: string; providerTaskMayExist?: boolean },
): Promise<DispatchOutcome> {
  deps.logger.warn({ jobId, model, retiredOn: how.day }, 'job failed: its model is no longer served by its provider');
  const detail = how.detail ?? `model ${model} retired on ${how.day}`;
  await run((now) => ({ type: 'Fail', errorCode: 'validation_failed', message: retiredModelMessage(model, how.day), detail, ...(how.providerTaskMayExist ? { providerTaskMayExist: true } : {}), now }));
  return DONE;
}

/** Submit errors that say the provider (not this job) is failing; they count toward its circuit. */
const CIRCUIT_KINDS: ReadonlySet<string> = new Set(['server', 'timeout', 'auth', 'billing']);
export const countsTowardCircuit = (err: Pick<ProviderError, 'kind'> & { notProviderFault?: boolean }): boolean => CIRCUIT_KINDS.has(err.kind) && !err.notProviderFault;

/** A provider that de-duplicates by our key, or can find a task by it: a try of unknown outcome can be repeated safely. */
const findsBySubmissionKey = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter): adapter is ProviderAdapter & Required<Pick<ProviderAdapter, 'findBySubmissionKey'>> =>
  adapter.capabilities.listTasks && Boolean(adapter.findBySubmissionKey) && (!adapter.capabilities.findsOnlyWithCallback || sendsCallbacks(deps, adapter));
const searchable = (deps: Pick<DispatchJobDeps, 'publicBaseUrl' | 'adapters'>, provider: string) => {
  const adapter = deps.adapters.get(provider);
  return Boolean(adapter && findsBySubmissionKey(deps, adapter));
};
const canReconcile = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter) => adapter.capabilities.idempotencyKey || findsBySubmissionKey(deps, adapter);
const sendsCallbacks = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter) => adapter.capabilities.callbacks && Boolean(deps.publicBaseUrl);

/**
 * A try whose outcome is unknown (a crash after the call, a timeout or a connection lost after the
 * request was sent) at a provider that cannot be reconciled: it may have accepted the job, and a
 * second submit could generate (and bill) it twice, so the job fails instead. Its slot stays held:
 * a task made by that try counts against the account's limit, and a slot freed now would let the
 * next submit run into it. The slot sweep frees it after DISPATCH_UNTRACKED_TASK_HOLD_MS. A job
 * canceled meanwhile (during the call) stays canceled, and its slot is held the same way.
 */
async function failUnknownOutcome(deps: DispatchJobDeps, run: Run, jobId: string, provider: string, submissionKey: string, why: string): Promise<DispatchOutcome> {
  deps.logger.warn({ jobId, provider, submissionKey, why }, 'submission outcome unknown; not resubmitting');
  try {
    await run((now) => ({
      type: 'Fail',
      errorCode: 'unknown_provider_error',
      detail: `outcome of submission ${submissionKey} to ${provider} unknown (${why}); ${provider} cannot be reconciled, so it was not resubmitted`,
      providerTaskMayExist: true,
      now,
    }));
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    const { job } = (await loadStreamState(deps.store, jobStreamId(jobId), dispatchView)).state;
    if (job.status !== 'canceled') throw err;
    deps.logger.info({ jobId, provider }, 'job canceled while its submit went unanswered; its slot is held in case the provider made the task');
  }
  return DONE;
}

async function recordAccepted(deps: DispatchJobDeps, run: Run, _adapter: ProviderAdapter, provider: string, providerTaskId: string): Promise<DispatchOutcome> {
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

/** Returned by onSubmitError when the job goes on to `provider`, where its slot is taken already. */
type Failover = { kind: 'failover'; provider: string };

type SubmitError = { kind: Parameters<typeof decideSubmitFailure>[0]['kind']; retryAfterMs?: number; retryable?: boolean; detail: string; providerCode?: string; notProviderFault?: boolean };

/** A try that may have made a task never fails over: the job stays with that provider. */
function onSubmitError(deps: DispatchJobDeps, run: Run, job: JobState, provider: string, err: SubmitError, taskMayExist: true): Promise<DispatchOutcome>;
function onSubmitError(deps: DispatchJobDeps, run: Run, job: JobState, provider: string, err: SubmitError, taskMayExist: boolean): Promise<DispatchOutcome | Failover>;
async function onSubmitError(
  deps: DispatchJobDeps,
  run: Run,
  job: JobState,
  provider: string,
  err: SubmitError,
  /** The try got no answer (or its lookup failed): should the job fail now, a task made by it may run. */
  taskMayExist: boolean,
): Promise<DispatchOutcome | Failover> {
  const jobId = job.jobId;
  const { history } = (await loadStreamState(deps.store, jobStreamId(jobId), dispatchView)).state;
  const now = deps.now();
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
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: 'provider_error', retryAt, now: at }));
    outcome = { kind: 'later', delayMs: LISTING_LAG_MS, why: 'retry' };
  } else if (next) {
    // The refusal is recorded first, so the intent that follows at `next` is a try of its own.
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: err.kind === 'rate_limited' ? 'rate_limited' : 'provider_error', retryAt: at, now: at }));
    deps.logger.warn({ jobId, from: provider, to: next, kind: err.kind }, 'provider refused the job; sending it to the next provider of its model');
    outcome = { kind: 'failover', provider: next };
  } else if (retired) {
    const detail = `${provider} submit: not_found (${err.providerCode}): ${err.detail}`;
    outcome = await failRetiredModel(deps, run, jobId, job.model, { detail, providerTaskMayExist: taskMayExist });
    if (!taskMayExist) await deps.slots.release(jobId);
  } else if (decision.action === 'retry') {
    await run((at) => ({ type: 'ScheduleSubmissionRetry', reason: decision.reason, retryAt: decision.retryAt, now: at }));
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

/** A provider failure for its circuit, once the job's answer is in the log (the circuit is a hint: a failing write only logs). */
async function noteCircuitFailure(deps: DispatchJobDeps, provider: string): Promise<void> {
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

/**
 * The next provider for a job its provider refused for good: one of its model's providers the job
 * was never sent to, that can take its reference image, is not retired there, whose circuit lets it
 * through and that has a free slot (taken here; the job's slot moves to it). Null when there is none,
 * and the job fails as it would with one provider: a failover never waits for capacity.
 */
async function failoverProvider(deps: DispatchJobDeps, job: JobState, history: SubmissionHistory): Promise<string | null> {
  const untried = providersFor(deps, job).candidates.filter((p) => !history.providers.includes(p) && !deps.catalog.atProvider(job.model, p)?.retiredOn);
  return deps.slots.forUser(job.userId, job.jobId, async () => {
    // One provider at a time: asking a half-open circuit claims its probe, which only the provider chosen should use.
    for (const p of untried) if ((await deps.circuit.allows(p)) && (await takeSlot(deps, job.jobId, p))) return p;
    return null;
  });
}

/** The configured providers of the job's model, in the catalog's order, and those of them that can take its reference image. */
function providersFor(deps: DispatchJobDeps, job: JobState): { serving: string[]; candidates: string[] } {
  const serving = (deps.catalog.get(job.model)?.providers ?? []).filter((p) => deps.adapters.has(p));
  return { serving, candidates: serving.filter((p) => takesReferenceImage(deps, job, deps.adapters.get(p)!)) };
}

/**
 * Records a provider's answer, trying again for about a minute when the write fails. Until it is in
 * the log the answer lives only in this process: given up at once, the next delivery would find the
 * intent unanswered and, at a provider that cannot be reconciled, fail the job as of unknown outcome
 * (while the provider generates and bills it), or fail a try that was cleanly refused and would have
 * been retried. Repeating the write is harmless: the decider turns a repeat into no event.
 */
async function untilRecorded<T>(deps: DispatchJobDeps, what: string, fields: Record<string, unknown>, write: () => Promise<T>): Promise<T> {
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

/** How long a provider may take to fetch an uploaded image by its signed link (a job may wait in its queue). */
const ASSET_LINK_TTL_MS = 24 * 3600_000;

/**
 * The reference image as a URL the provider can use: the user's own URL (already checked by
 * intake); for an uploaded asset, a signed link to the gateway where one can be made (providers
 * that fetch URLs may refuse `data:` URLs or cap them well below our upload limit), else the
 * image inlined as a `data:` URL — always for a provider that takes images inline.
 */
async function referenceImageUrl(deps: DispatchJobDeps, job: JobState, adapter: ProviderAdapter): Promise<string | undefined> {
  const ref = job.referenceImage;
  if (!ref) return undefined;
  if ('url' in ref) {
    const inline = adapter.capabilities.inlineImage;
    return inline && deps.fetchReferenceImage ? deps.fetchReferenceImage(ref.url, inline.maxBytes) : ref.url;
  }
  if (!takesReferenceImage(deps, job, adapter)) throw new UploadNeedsLinkError(adapter.name);
  const info = await deps.storage.stat(assetKey(ref.assetId));
  if (!info?.contentType) throw new MissingAssetError(ref.assetId);
  const links = deps.assetUrls;
  const linkRefused = adapter.capabilities.linksOverHttpsOnly && !/^https:/i.test(links?.publicBaseUrl ?? '');
  if (links && !linkRefused && !adapter.capabilities.inlineImage) return signedAssetUrl(links, ref.assetId, new Date(deps.now().getTime() + ASSET_LINK_TTL_MS));
  const prefix = `data:${info.contentType};base64,`;
  const maxLength = adapter.capabilities.dataUrlMaxLength;
  if (maxLength && prefix.length + Math.ceil(info.bytes / 3) * 4 > maxLength) throw new InlineImageTooLargeError(adapter.name, Math.floor((maxLength - prefix.length) / 4) * 3);
  return prefix + (await deps.storage.read(assetKey(ref.assetId))).toString('base64');
}

/** An upload that must go inline (no link the provider takes) is over the provider's limit for inline images. */
class InlineImageTooLargeError extends Error {
  constructor(
    readonly provider: string,
    readonly maxBytes: number,
  ) {
    super(`the uploaded image is over ${provider}'s limit for inline images (${maxBytes} bytes); an https PUBLIC_BASE_URL with ASSET_URL_SECRET would send it as a link`);
  }
}

/**
 * Whether the provider can be handed this job's reference image: an uploaded image goes to a
 * provider that fetches links only as a signed link, which needs PUBLIC_BASE_URL and ASSET_URL_SECRET.
 */
function takesReferenceImage(deps: Pick<DispatchJobDeps, 'assetUrls'>, job: JobState, adapter: ProviderAdapter): boolean {
  const ref = job.referenceImage;
  return !ref || 'url' in ref || Boolean(deps.assetUrls) || !adapter.capabilities.imageByLinkOnly;
}

const uploadNeedsLinkDetail = (providers: readonly string[]) =>
  `${providers.join(', ')} take${providers.length === 1 ? 's' : ''} reference images only as links, and an uploaded image needs PUBLIC_BASE_URL and ASSET_URL_SECRET set for dispatch to link to it`;

class UploadNeedsLinkError extends Error {
  constructor(provider: string) {
    super(uploadNeedsLinkDetail([provider]));
  }
}

class MissingAssetError extends Error {
  constructor(readonly assetId: string) {
    super(`reference image asset ${assetId} is no longer in storage`);
  }
}

async function submitRequest(deps: DispatchJobDeps, job: JobState, provider: string, submissionKey: string): Promise<ProviderSubmitRequest> {
  const adapter = deps.adapters.get(provider)!;
  const model = deps.catalog.atProvider(job.model, provider)?.providerModel ?? job.model;
  const req: ProviderSubmitRequest = {
    model,
    prompt: job.prompt,
    durationSeconds: job.durationSeconds,
    aspectRatio: job.aspectRatio,
    submissionKey,
  };
  if (job.negativePrompt) req.negativePrompt = job.negativePrompt;
  if (job.resolution) req.resolution = job.resolution;
  if (job.seed !== null) req.seed = job.seed;
  const imageUrl = await referenceImageUrl(deps, job, adapter);
  if (imageUrl) req.imageUrl = imageUrl;
  if (sendsCallbacks(deps, adapter)) {
    req.callbackUrl = `${deps.publicBaseUrl!.replace(/\/+$/, '')}/v1/providers/${encodeURIComponent(provider)}/callback`;
  }
  return req;
}

async function takeSlot(deps: DispatchJobDeps, jobId: string, provider: string): Promise<boolean> {
  const slot = await deps.slots.acquire(jobId, provider);
  // Exact at this moment (counted under the slot lock); releases show at the periodic refresh.
  if (slot.acquired) deps.metrics.inFlight.set({ provider }, slot.inUse);
  return slot.acquired;
}

/**
 * A job validated longer ago than DISPATCH_CAPACITY_WAIT_MAX_MS that still has nowhere to go fails
 * as provider_rate_limited (true); nothing was sent anywhere, so its credits are given back.
 */
async function failedPastCapacityDeadline(deps: DispatchJobDeps, run: Run, job: JobState, history: SubmissionHistory, now: Date, why: string): Promise<boolean> {
  const waited = history.validatedAt ? now.getTime() - history.validatedAt.getTime() : 0;
  if (deps.capacityWaitMaxMs <= 0 || waited <= deps.capacityWaitMaxMs) return false;
  deps.logger.warn({ jobId: job.jobId, model: job.model, waitedMs: waited }, `${why} in time; the job fails`);
  await run((at) => ({ type: 'Fail', errorCode: 'provider_rate_limited', detail: `${why} within ${deps.capacityWaitMaxMs} ms of validation`, now: at }));
  return true;
}

/**
 * Waits for a turn under the provider's submit cap (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>):
 * null when the submit may go now, else when to deliver the job again. A failover's turn is waited
 * for in this handler instead: handed back, the next delivery would go to the refusing provider again.
 */
async function waitForSubmitTurn(deps: DispatchJobDeps, lease: SubmitLease, jobId: string, provider: string, inHandler: boolean): Promise<DispatchOutcome | null> {
  if (!deps.submitBudgets) return null;
  for (;;) {
    const token = await deps.submitBudgets.take(provider);
    if (token.taken) return null;
    // Spread out, so the jobs waiting for one token do not all ask for it at the same moment.
    const delayMs = Math.round(token.waitMs * (1 + Math.random())) + 50;
    if (!inHandler) return { kind: 'later', delayMs, why: 'capacity' };
    await new Promise((r) => setTimeout(r, delayMs));
    assertHeld(lease, jobId);
  }
}

function capacityWait(deps: DispatchJobDeps): DispatchOutcome {
  // Jitter spreads the waiting jobs so they do not all knock at once when a slot frees up.
  return { kind: 'later', delayMs: Math.round(deps.capacityWaitMs * (0.5 + Math.random())), why: 'capacity' };
}

function timed<T>(deps: DispatchJobDeps, provider: string, operation: string, call: () => Promise<T>): Promise<T> {
  return timedProviderCall(deps.metrics, provider, operation, (err) => (isProviderError(err) ? err.kind : 'unexpected'), call);
}

/**
 * A cancel that won against a submit whose acceptance was never recorded (the process died in
 * between): where the provider can find the task by our key, it is recorded as accepted after the
 * cancel, so that polling stops it (or waits it out) and its capacity slot stays held until then.
 * Elsewhere the task is out of reach. 'absent' (the provider has no task by our key) lets the slot
 * go; 'unknown' (the lookup failed, worth asking again) and 'failed' (refused for good) must not,
 * since a task made by the lost submit may be running.
 */
async function recordUnrecordedTask(
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
  await recordAccepted(deps, run, adapter, intent.provider, found);
  return 'recorded';
}

async function cancelOrphan(deps: DispatchJobDeps, jobId: string, adapter: ProviderAdapter, providerTaskId: string): Promise<void> {
  if (!adapter.capabilities.cancel || !adapter.cancel) return;
  try {
    await adapter.cancel(providerTaskId);
  } catch (err) {
    deps.logger.warn({ jobId, provider: adapter.name, err: isProviderError(err) ? err.detail : String(err) }, 'could not cancel the task of a job canceled during submit');
  }
}
