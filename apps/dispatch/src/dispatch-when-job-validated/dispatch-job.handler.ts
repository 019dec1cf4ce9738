import { isTerminal, jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, loadStreamState } from '@reelay/event-store';
import { canceledWithUnansweredSubmit, decideJob, IllegalTransitionError, type JobState } from '@reelay/job-domain';
import { isProviderError, type ProviderAdapter, type ProviderSubmitRequest } from '@reelay/providers';
import { ReferenceImageUnavailable } from './fetch-reference-image';
import { chooseProvider } from './choose-provider';
import { DONE, timed, type DispatchJobDeps, type DispatchOutcome, type Run } from './dispatch-job.deps';
import { failedPastCapacityDeadline, failForSetup, failRetiredModel, failUnknownOutcome } from './job-failures';
import { noteCircuitFailure, onSubmitError } from './on-submit-error';
import { canReconcile, findsBySubmissionKey, searchable } from './provider-abilities';
import { linePlace, providersFor, takeSlot } from './provider-candidates';
import { cancelOrphan, recordAccepted, recordUnrecordedTask, untilRecorded } from './record-answer';
import { InlineImageTooLargeError, MissingAssetError, submitRequest, uploadNeedsLinkDetail, UploadNeedsLinkError } from './submit-request';
import { LISTING_LAG_MS, lookupOnly } from './submit-failure-policy';
import { dispatchView, everyTryRefused } from './submission-history';
import { capacityWait, waitForSubmitTurn } from './submit-turns';
import { assertHeld, type SubmitLease } from './submit-locks';

/** How soon the task of a job canceled during its submit is looked for again after a failed lookup. */
const LOOKUP_AGAIN_MS = 10_000;

/** How soon a delivery that found the job's submit lock taken looks again (the holder is mid-submit). */
export const BUSY_WAIT_MS = 5_000;

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
  /** A half-open probe this delivery was handed (provider, when claimed): given back at the end unless its outcome was recorded. */
  let probe = null as { provider: string; claim: string } | null;
  const heldProbe = (p: string) => {
    const claim = deps.circuit.probeClaim(p);
    probe = claim ? { provider: p, claim } : null;
  };
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
            // The hold counts from the cancel, as the sweep counts it: a searchable provider's retries record
            // no new intent, so the first intent may be far older than the last try.
            const endedAt = job.completedAt ? Date.parse(job.completedAt) : (history.intentAt?.getTime() ?? deps.now().getTime());
            return deps.now().getTime() - endedAt < deps.untrackedTaskHoldMs ? { kind: 'later', delayMs: LOOKUP_AGAIN_MS, why: 'retry' } : DONE;
          }
          // The lookup was refused in a way asking again will not change (our key, the request): the
          // slot stays held until the slot sweep's hold ends.
          if (found === 'failed') return DONE;
          // The provider has no task by our key: the job's cancellation says nothing was started.
          await run((now) => ({ type: 'RecordNoProviderTask', now }));
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
    if (job.intent && history.failoverTo) {
      // The last provider refused the job for good (it holds no task of it), and the refusal named the
      // next one: this delivery makes that try, a new one under a new key.
      provider = history.failoverTo;
      if (!deps.adapters.has(provider)) {
        await failForSetup(deps, run, { jobId, provider }, `${job.intent.provider} refused the job and ${provider}, where it was sent on, is no longer configured`);
        await deps.slots.release(jobId);
        return DONE;
      }
      const next = provider;
      // Its circuit is asked again: it may have opened since the failover chose it, or its probe be taken.
      if (!(await deps.circuit.allows(next))) return capacityWait(deps);
      heldProbe(next);
      // Its slot there was taken with the failover (a no-op now), unless the slot sweep freed it since.
      if (!(await deps.slots.forUser(job.userId, jobId, async () => (await takeSlot(deps, jobId, next, null)) || null))) return capacityWait(deps);
    } else if (job.intent) {
      provider = job.intent.provider;
      const adapter = deps.adapters.get(provider);
      if (!adapter) {
        await failForSetup(deps, run, { jobId, provider }, `submission ${job.intent.submissionKey} was made to ${provider}, which is no longer configured`);
        await deps.slots.release(jobId);
        return DONE;
      }
      const pinned = provider;
      if (!(await deps.slots.forUser(job.userId, jobId, async () => (await takeSlot(deps, jobId, pinned, linePlace(job))) || null))) return capacityWait(deps);
      if (findsBySubmissionKey(deps, adapter) && !everyTryRefused(history)) {
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
          return await recordAccepted(deps, run, provider, found);
        }
        if (lookupOnly(history, deps.policy)) {
          // The last try timed out with the budget spent, and the provider lists no task by our key
          // yet. An overloaded provider may still be making it, so this is no proof there is none:
          // the job fails with a task that may exist (its slot held), and is sent nowhere else.
          const detail = `no task found by submission key ${job.intent.submissionKey} after the last try went unanswered`;
          return await onSubmitError(deps, run, job, provider, { kind: 'server', retryable: false, notProviderFault: true, detail }, true);
        }
        submissionKey = job.intent.submissionKey;
      } else if (findsBySubmissionKey(deps, adapter) || adapter.capabilities.idempotencyKey) {
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
      const chosen = await deps.slots.forUser(job.userId, jobId, () =>
        chooseProvider(candidates, (p) => deps.circuit.allows(p), (p) => takeSlot(deps, jobId, p, linePlace(job)), (p) => deps.circuit.returnProbe(p)),
      );
      if (!chosen) {
        if (await failedPastCapacityDeadline(deps, run, job, history, now, `no capacity slot at ${candidates.join(', ')}`)) return DONE;
        return capacityWait(deps);
      }
      provider = chosen;
      heldProbe(provider);
    }

    for (;;) {
      // A job pinned to its provider by an earlier try (refused, or not found by our key) whose model
      // that provider has retired since: no task of it exists, and sending it again cannot succeed.
      const retiredOn = deps.catalog.atProvider(job.model, provider)?.retiredOn;
      if (retiredOn) return failRetiredModel(deps, run, jobId, job.model, { day: retiredOn });

      // The provider's submit rate cap, before anything is built or recorded: waiting leaves no intent
      // behind, and the slot taken above stays held meanwhile.
      const turn = await waitForSubmitTurn(deps, provider);
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
        // (its slot taken there already, and its name in the log), as a new try under a new key.
        provider = outcome.provider;
        heldProbe(provider);
        job = (await loadStreamState(deps.store, stream, dispatchView)).state.job;
        submissionKey = null;
        intendedKey = `${jobId}:${job.submissionAttempts + 1}`;
        continue;
      }
      accepted = { adapter, providerTaskId };
      deps.afterProviderAccepted?.();
      let outcome: DispatchOutcome;
      try {
        outcome = await untilRecorded(deps, 'the acceptance', { jobId, provider, providerTaskId }, () => recordAccepted(deps, run, provider, providerTaskId));
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
      return DONE;
    }
    // Refused on a job still under way: the log moved on under this delivery, or the command broke a
    // rule. A task the provider made for a refused acceptance is no task of the job's; the message
    // fails, so the next delivery decides on the fresh state.
    if (accepted && job.providerTaskId !== accepted.providerTaskId) await cancelOrphan(deps, jobId, accepted.adapter, accepted.providerTaskId);
    deps.logger.warn({ jobId, status: job.status, err: String(err) }, 'a dispatch command was refused on an unfinished job');
    throw err;
  } finally {
    // Not sent (no submit turn, the job failed or was canceled first), or answered with a refusal that
    // says nothing of the provider's health: the next job may probe at once. A recorded outcome
    // (success or failure) has settled the probe already, and this is then a no-op.
    if (probe) await deps.circuit.returnProbe(probe.provider, probe.claim);
  }
}

/**
 * Frees a finished job's slot unless its provider task may still run: one that outlived the cancel
 * keeps the slot until polling records its end, one a lost answer may have made until the slot sweep's hold.
 */
async function releaseUnlessTaskRuns(deps: DispatchJobDeps, job: JobState, jobId: string): Promise<void> {
  if (!job.providerTaskOpen && !job.providerTaskMayExist) await deps.slots.release(jobId);
}
