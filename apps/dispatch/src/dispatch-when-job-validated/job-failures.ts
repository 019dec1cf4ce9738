import { retiredModelMessage } from '@reelay/catalog';
import { jobStreamId } from '@reelay/contracts';
import { loadStreamState } from '@reelay/event-store';
import { IllegalTransitionError, type JobState } from '@reelay/job-domain';
import { DONE, type DispatchJobDeps, type DispatchOutcome, type Run } from './dispatch-job.deps';
import { dispatchView, type SubmissionHistory } from './submission-history';

/**
 * A job this installation's settings cannot send anywhere (a provider gone from them, a link it
 * cannot make): redelivering would not change that, so the job ends with a status a person can
 * read, and the operator finds why in the log and the event's detail.
 */
export async function failForSetup(deps: DispatchJobDeps, run: Run, fields: Record<string, unknown>, detail: string): Promise<DispatchOutcome> {
  deps.logger.error(fields, detail);
  await run((now) => ({ type: 'Fail', errorCode: 'unknown_provider_error', detail, now }));
  return DONE;
}

/**
 * The job's model stopped being served after the job was accepted (an announced retirement, or the
 * provider's answer): the user can only choose another model, so the job fails with a message saying
 * so, not as an unexplained provider error.
 */
export async function failRetiredModel(
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

/**
 * A try whose outcome is unknown (a crash after the call, a timeout or a connection lost after the
 * request was sent) at a provider that cannot be reconciled: it may have accepted the job, and a
 * second submit could generate (and bill) it twice, so the job fails instead. Its slot stays held:
 * a task made by that try counts against the account's limit, and a slot freed now would let the
 * next submit run into it. The slot sweep frees it after DISPATCH_UNTRACKED_TASK_HOLD_MS. A job
 * canceled meanwhile (during the call) stays canceled, and its slot is held the same way.
 */
export async function failUnknownOutcome(deps: DispatchJobDeps, run: Run, jobId: string, provider: string, submissionKey: string, why: string): Promise<DispatchOutcome> {
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

/**
 * A job validated longer ago than DISPATCH_CAPACITY_WAIT_MAX_MS that still has nowhere to go fails
 * as provider_rate_limited (true); nothing was sent anywhere, so its credits are given back.
 */
export async function failedPastCapacityDeadline(deps: DispatchJobDeps, run: Run, job: JobState, history: SubmissionHistory, now: Date, why: string): Promise<boolean> {
  const waited = history.validatedAt ? now.getTime() - history.validatedAt.getTime() : 0;
  if (deps.capacityWaitMaxMs <= 0 || waited <= deps.capacityWaitMaxMs) return false;
  deps.logger.warn({ jobId: job.jobId, model: job.model, waitedMs: waited }, `${why} in time; the job fails`);
  await run((at) => ({ type: 'Fail', errorCode: 'provider_rate_limited', detail: `${why} within ${deps.capacityWaitMaxMs} ms of validation`, now: at }));
  return true;
}
