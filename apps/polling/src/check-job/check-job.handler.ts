import { isTerminal, type JobErrorCode, type JobOutput } from '@reelay/contracts';
import { DEADLINE_CHECK_GRACE_MS, IllegalTransitionError, type JobCommand, type JobState } from '@reelay/job-domain';
import { isProviderError, type ProviderAdapter, type ProviderCheckResult } from '@reelay/providers';
import { extractContext, runWithContext, scrubSecrets, withSpan } from '@reelay/service-kit';
import type { PollingDeps } from '../polling.deps';
import { COPYING_STATUS, ERROR_STATUS_PREFIX, OUTPUT_COPY, type NextCheck, type ScheduledCheck } from '../schedule/poll-schedule.repository';
import { afterFailedCheck, afterUnfinishedCheck, type NextStep } from '../schedule/schedule-policy';
import { drainCheck, endReason, outlivedByTask, recordTaskEnded, taskIsOver } from '../drain-canceled-task/drain-check';
import { decideOnJob, loadJob } from '../shared/job-stream';
import { ACCOUNT_REFUSALS, checkAtProvider, providerCall } from '../shared/provider-call';
import { storedCopy, takeOutput, type CustodyResult } from '../take-output/take-output';
import { withExpiry } from '../delete-output/output-expiry';
import { removeUnusedOutput } from '../delete-output/remove-unused-output.handler';
import { failureCodeAfterAcceptance, operatorDetail } from './failure-code';
import { unfinishedRecords } from './unfinished-records';

/** How long past its deadline a job the provider finished may take to have its output copied. */
export const OUTPUT_COPY_GRACE_MS = 10 * 60_000;
/** How long before intake's unasked deadline cancel a failing copy gives up (a retry wait and a tick fit in it). */
const COPY_BEFORE_CANCEL_MS = 2 * 60_000;

/**
 * A job given up at the provider deadline with its task running there (or unchecked): the job's
 * failure stops it where the provider lets us, but nothing follows it after that, and where it goes
 * on (no cancel call, a refused or only requested one) the provider counts it against the account.
 * So its capacity slot is held until dispatch's sweep bound (DISPATCH_UNTRACKED_TASK_HOLD_MS).
 */
const TASK_MAY_RUN = { taskMayRun: true };

export type CheckOutcome = 'unfinished' | 'retry' | 'succeeded' | 'failed' | 'canceled' | 'stale' | 'task_ended';

/**
 * One scheduled check of a claimed job: ask the provider, record progress, and either plan the
 * next check, or end the job (output taken into custody → succeeded; provider failure, missing
 * output or passed deadline → failed).
 *
 * The check works from the schedule row: the job's stream is read only to write to it. A write is
 * decided on the state this process holds and appended at its version; when the stream moved on,
 * it is decided again on the fresh state, so a job that ended meanwhile refuses it
 * (IllegalTransitionError → its row is removed). A check that ends the job leaves the row leased:
 * the terminal event removes it (polling-stop consumer), so a crash between the append and that
 * removal costs nothing but one lease period.
 */
export async function checkJob(deps: PollingDeps, claim: ScheduledCheck): Promise<CheckOutcome> {
  // The check joins the trace the job was dispatched in (the claim keeps that event's traceparent).
  const span = { parent: extractContext(claim.metadata.traceparent), attributes: { 'reelay.job.id': claim.jobId, 'reelay.provider': claim.provider } };
  return runWithContext({ jobId: claim.jobId, correlationId: claim.metadata.correlationId, traceparent: claim.metadata.traceparent }, () =>
    withSpan(claim.draining ? 'polling drain canceled task' : 'polling check job', span, () => (claim.draining ? drainCheck(deps, claim) : new JobCheck(deps, claim).run())),
  );
}

class JobCheck {
  private readonly startedAt = performance.now();
  /** This check put the output at the job's key (and has not recorded it yet). */
  private copiedOutput = false;
  /** The provider answered this check that the task is over (done, failed or canceled there). */
  /** Set when the check's answer says the task is over at the provider: how it ended there. */
  private taskEnd: ReturnType<typeof endReason> | null = null;

  constructor(
    private readonly deps: PollingDeps,
    private readonly claim: ScheduledCheck,
  ) {}

  /** Database time at the claim plus what has elapsed here since. */
  private now(): Date {
    return new Date(this.claim.claimedAt.getTime() + (performance.now() - this.startedAt));
  }

  async run(): Promise<CheckOutcome> {
    const { deps, claim } = this;
    try {
      // A lapsed lease may be that of a check that ended the job, its terminal event not handled yet
      // (a lagging consumer): the log says so without asking the provider (or copying again).
      if (claim.reclaimed) {
        const job = await loadJob(deps.store, claim.jobId);
        if (!isFollowed(job, claim.providerTaskId)) return await this.afterRace(job);
      }
      const adapter = deps.adapters.get(claim.provider);
      if (!adapter) {
        deps.logger.error({ provider: claim.provider }, 'no adapter configured for a followed job; checking again later');
        return await this.retryLater('no_adapter');
      }
      let result: ProviderCheckResult;
      try {
        result = await checkAtProvider(deps, adapter, claim.providerTaskId);
      } catch (err) {
        const refusedAccount = isProviderError(err) && ACCOUNT_REFUSALS.has(err.kind);
        if (isProviderError(err) && !err.retryable && !refusedAccount) {
          deps.metrics.checkErrors.inc({ provider: claim.provider, kind: err.kind });
          if (this.copying) return await this.failUncopied(operatorDetail(claim.provider, err));
          return await this.fail(failureCodeAfterAcceptance(err), operatorDetail(claim.provider, err));
        }
        const kind = isProviderError(err) ? err.kind : 'network';
        const detail = isProviderError(err) ? err.detail : (err as Error).message;
        deps.metrics.checkErrors.inc({ provider: claim.provider, kind });
        if (refusedAccount) deps.logger.error({ provider: claim.provider, kind }, 'provider refused our account on a status check: check its API key and billing; checking again later');
        else deps.logger.warn({ provider: claim.provider, kind, detail }, 'check failed; checking again later');
        return await this.retryLater(kind, isProviderError(err) ? err.retryAfterMs : undefined, `${kind}: ${detail}`);
      }
      if (result.unrecognized) {
        deps.metrics.unrecognizedStatuses.inc({ provider: claim.provider });
        deps.logger.warn({ provider: claim.provider, providerStatus: result.providerStatus, jobId: claim.jobId }, 'provider answered a status the adapter does not know; taken as running until a known one or the deadline');
      }
      return await this.act(adapter, result);
    } catch (err) {
      if (err instanceof IllegalTransitionError) return this.afterRace();
      throw err;
    }
  }

  private async act(adapter: ProviderAdapter, result: ProviderCheckResult): Promise<CheckOutcome> {
    const { claim } = this;
    this.taskEnd = taskIsOver(result) ? endReason(result) : null;
    switch (result.state) {
      case 'queued':
      case 'running': {
        const policy = this.deps.policyFor(claim.provider);
        const step = afterUnfinishedCheck(claim, this.now(), policy);
        if (step.kind === 'past_cancel_at') return this.cancelAtDeadline(result.providerStatus ?? result.state);
        if (step.kind === 'timed_out') return this.fail('provider_timeout', `${claim.provider} task still ${result.providerStatus ?? result.state} at the deadline`, TASK_MAY_RUN);
        const records = unfinishedRecords(claim, result, step, policy.offsetsMs.length);
        if (records.progress !== undefined) await this.write({ type: 'RecordProgress', progress: records.progress, now: this.now() });
        if (records.markDelayed) await this.write({ type: 'MarkDelayed', now: this.now() });
        await this.plan(step, 0, result.providerStatus ?? result.state, {
          progress: records.progress ?? claim.progress,
          delayedMarked: claim.delayedMarked || records.markDelayed,
        });
        return 'unfinished';
      }
      case 'succeeded': {
        if (!result.outputUrl) return this.fail('output_missing', `${claim.provider} reported success without an output`);
        const custody = await providerCall(this.deps, adapter, 'fetch_output', () => takeOutput(this.deps, claim.jobId, adapter, result.outputUrl!, this.recorded), custodyOutcome);
        if (custody.kind === 'stored') {
          this.copiedOutput = true;
          return this.succeed(custody.output);
        }
        if (custody.kind === 'missing') return this.fail('output_missing', `${claim.provider}: ${custody.detail}`);
        this.deps.logger.warn({ provider: claim.provider, detail: custody.detail }, 'output copy failed; trying again later');
        return this.retryLater(OUTPUT_COPY, custody.retryAfterMs, custody.detail);
      }
      case 'failed': {
        const error = result.error ?? { kind: 'server' as const, detail: `task ${result.providerStatus ?? 'failed'}` };
        if (this.copying) return this.failUncopied(operatorDetail(claim.provider, error));
        return this.fail(failureCodeAfterAcceptance(error), operatorDetail(claim.provider, error));
      }
      case 'canceled':
        if (this.copying) return this.failUncopied(`${claim.provider} task was canceled at the provider`);
        // Not by us: a job we cancel is already `canceled` and no longer followed.
        return this.fail('unknown_provider_error', `${claim.provider} task was canceled at the provider`);
    }
  }

  private async write(command: JobCommand): Promise<void> {
    // Status changes are counted by notification, which sees every job event once.
    await decideOnJob(this.deps.store, this.claim.jobId, command, this.claim.metadata);
  }

  /**
   * An earlier check found the task done and only the copy of its output failed: the video was made.
   * Should the provider now answer that the task failed, is gone or was canceled (an output kept for
   * an hour, a purged task), what the user is told is that it could not be retrieved (output_missing),
   * not that generating it failed.
   */
  private get copying(): boolean {
    return this.claim.lastStatus === COPYING_STATUS;
  }

  private failUncopied(providerAnswer: string): Promise<CheckOutcome> {
    return this.fail('output_missing', `${this.claim.provider}: the output of the finished task could not be copied, and the provider no longer gives it (${providerAnswer})`);
  }

  private readonly recorded = async () => (await loadJob(this.deps.store, this.claim.jobId)).status === 'succeeded';

  private async succeed(output: JobOutput): Promise<CheckOutcome> {
    const now = this.now();
    await this.write({ type: 'Succeed', output: withExpiry(output, now, this.deps.outputRetentionMs), now });
    return 'succeeded';
  }

  private async fail(errorCode: JobErrorCode, detail: string, opts: { taskMayRun?: boolean } = {}): Promise<CheckOutcome> {
    // A copy in place means an earlier check saw the task succeed and copied its output, and then
    // could not record it (a crash, the database down): a provider that has purged the task since
    // (Replicate keeps API outputs about an hour) now answers failed or not found. The copy is the
    // video, and the job succeeds with it rather than failing and losing it.
    const kept = await storedCopy(this.deps, this.claim.jobId, this.recorded);
    if (kept?.kind === 'stored') {
      this.deps.logger.warn({ provider: this.claim.provider, errorCode, detail }, 'the provider no longer has the task, but an earlier check copied its output: the job succeeds with that copy');
      return this.succeed(kept.output);
    }
    this.deps.logger.info({ provider: this.claim.provider, errorCode, detail }, 'job failed at the provider');
    await this.write({ type: 'Fail', errorCode, detail, ...(opts.taskMayRun ? { providerTaskMayExist: true } : {}), now: this.now() });
    return 'failed';
  }

  /**
   * The job's own deadline (`cancelAfterSeconds`) has passed and the provider says the task is not
   * done: the job is given up as its owner's cancel would (JobCanceled; its delivery asks the
   * provider to stop and keeps the row to see the task end where it cannot).
   */
  private async cancelAtDeadline(providerStatus: string): Promise<CheckOutcome> {
    this.deps.logger.info({ provider: this.claim.provider, providerStatus }, 'job canceled at its deadline: not done at the provider');
    await this.write({ type: 'Cancel', atDeadline: true, providerChecked: true, now: this.now() });
    return 'canceled';
  }

  /**
   * Plans the next try of a check that could not be made. Once the provider has reported the job
   * done and only the copy of its output failed (this time or the last), the deadline, which is
   * about the provider, no longer applies: the copy gets OUTPUT_COPY_GRACE_MS past it, and the job
   * then fails as output_missing rather than as a provider timeout.
   */
  private async retryLater(kind: string, retryAfterMs?: number, detail?: string): Promise<CheckOutcome> {
    const copying = kind === OUTPUT_COPY || this.copying;
    const row = copying ? { ...this.claim, deadlineAt: this.copyDeadline() } : this.claim;
    const step = afterFailedCheck(row, this.now(), this.deps.policyFor(this.claim.provider), retryAfterMs);
    if (step.kind === 'timed_out') {
      // The last error goes into the operator detail (never shown to the user), cut and with credentials masked.
      const last = scrubSecrets(detail ?? kind).slice(0, 300);
      if (copying) return this.fail('output_missing', `${this.claim.provider}: the output could not be copied in time; the last try: ${last}`);
      return this.fail('provider_timeout', `${this.claim.provider} could not be checked before the deadline; the last try: ${last}`, TASK_MAY_RUN);
    }
    await this.plan(step, 1, copying ? COPYING_STATUS : `${ERROR_STATUS_PREFIX}${kind}`, this.claim);
    return 'retry';
  }

  /**
   * The end of a copy's tries: OUTPUT_COPY_GRACE_MS past the deadline, and for a job with its own
   * deadline COPY_BEFORE_CANCEL_MS before intake may cancel it unasked (DEADLINE_CHECK_GRACE_MS past
   * it), which would tell the user the video was not ready in time and have its finished task
   * stopped at the provider: the job fails as output_missing first.
   */
  private copyDeadline(): Date {
    const afterDeadline = this.claim.deadlineAt.getTime() + OUTPUT_COPY_GRACE_MS;
    const beforeCancel = this.claim.cancelAt ? this.claim.cancelAt.getTime() + DEADLINE_CHECK_GRACE_MS - COPY_BEFORE_CANCEL_MS : Infinity;
    return new Date(Math.min(afterDeadline, beforeCancel));
  }

  private async plan(step: Extract<NextStep, { kind: 'check_later' }>, errors: number, lastStatus: string, recorded: Pick<NextCheck, 'progress' | 'delayedMarked'>): Promise<void> {
    const kept = await this.deps.schedule.reschedule(this.claim, {
      nextCheckAt: step.nextCheckAt,
      checksDone: step.checksDone,
      // Failures in a row: a check that was made starts the count again.
      checkErrors: errors ? this.claim.checkErrors + errors : 0,
      lastStatus: lastStatus.slice(0, 60),
      progress: recorded.progress,
      delayedMarked: recorded.delayedMarked,
    });
    if (!kept) this.deps.logger.warn('lease lost before the next check was planned; another replica holds this job now');
  }

  /** A write was refused: the job moved on meanwhile (canceled, or finished by another check). */
  /** `read`: the job as just read from the log, when the caller has it. */
  private async afterRace(read?: JobState): Promise<CheckOutcome> {
    const { claim } = this;
    const job = read ?? (await loadJob(this.deps.store, claim.jobId));
    if (!isFollowed(job, claim.providerTaskId)) {
      // A job canceled (or failed) while its output was being copied will never point at the copy;
      // one whose video was deleted meanwhile must not get it back from a check that copied late.
      if (this.copiedOutput && isTerminal(job.status) && (job.status !== 'succeeded' || job.outputDeletedAt)) await this.removeCopy();
      const outlived = outlivedByTask(job, claim.providerTaskId);
      if (outlived && this.taskEnd) {
        await recordTaskEnded(this.deps, claim.provider, claim.jobId, this.taskEnd, this.now(), claim.metadata);
      } else if (outlived) {
        // Canceled while this check ran, the task still going on at the provider: its row stays, to look for its end.
        const step = afterFailedCheck(claim, this.now(), this.deps.policyFor(claim.provider));
        const nextCheckAt = step.kind === 'check_later' ? step.nextCheckAt : this.now();
        await this.deps.schedule.reschedule(claim, { nextCheckAt, checksDone: claim.checksDone, checkErrors: claim.checkErrors, lastStatus: 'canceled', progress: claim.progress, delayedMarked: claim.delayedMarked, draining: true });
        return 'stale';
      }
      await this.deps.schedule.remove(claim.jobId);
      return 'stale';
    }
    return this.retryLater('illegal_transition');
  }

  /** Best effort, logged: for a canceled or failed job, its terminal event's delivery removes the file too. */
  private async removeCopy(): Promise<void> {
    try {
      await removeUnusedOutput(this.deps, this.claim.jobId);
    } catch (err) {
      this.deps.logger.warn({ err: String(err) }, 'could not remove the output copied for a job that ended meanwhile');
    }
  }
}

/** A copy answers its failures (the download's, storage's, the file's) rather than throwing them: its outcome says which it was. */
const custodyOutcome = (custody: CustodyResult): string => (custody.kind === 'stored' ? 'ok' : custody.kind === 'missing' ? 'output_missing' : 'copy_failed');

function isFollowed(job: JobState, providerTaskId: string): boolean {
  return job.exists && !isTerminal(job.status) && job.providerTaskId === providerTaskId;
}
