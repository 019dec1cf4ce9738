import type { JobErrorCode, JobEvent, JobOutput } from '@reelay/contracts';
import { specFor } from '@reelay/testing';
import { IllegalTransitionError } from '../shared/decider';
import { jobDecider } from './job-decider';
import { DEADLINE_CHECK_GRACE_MS, deadlineCancelDue, mayHoldProviderTask } from './job-state';
import type { JobCommand } from './job-commands';
import { toPublicJob } from './to-public-job';

const now = new Date('2026-11-28T12:00:00.000Z');
const at = now.toISOString();
const given = specFor(jobDecider);

const submittedData = {
  jobId: 'job_01JABCDEFGHJKMNPQRSTVWXYZ0',
  userId: 'user-1',
  model: 'seedance-1-0-pro',
  provider: 'seedance',
  prompt: 'a red fox running through snow',
  negativePrompt: null,
  aspectRatio: '16:9' as const,
  durationSeconds: 5,
  resolution: '720p' as const,
  seed: 42,
  referenceImage: null,
  webhookUrl: null,
  metadata: {},
  creditsEstimated: 25,
  requestHash: 'h1',
};
const output: JobOutput = { url: '/v1/jobs/x/content', contentType: 'video/mp4', bytes: 1000, durationSeconds: 5, width: 1280, height: 720, sha256: 'abc' };

const submitted: JobEvent = { type: 'JobSubmitted', data: { ...submittedData, at } };
const validating: JobEvent = { type: 'JobValidationStarted', data: { at } };
const validated: JobEvent = { type: 'JobValidated', data: { at, referenceImage: null } };
const intended: JobEvent = { type: 'JobSubmissionIntended', data: { provider: 'seedance', attempt: 1, submissionKey: 'k1', at } };
const accepted: JobEvent = { type: 'JobProviderAccepted', data: { provider: 'seedance', providerTaskId: 'cgt-1', at } };
const delayed: JobEvent = { type: 'JobDelayed', data: { at } };
const succeeded: JobEvent = { type: 'JobSucceeded', data: { output, creditsCharged: 25, at } };
const failed: JobEvent = { type: 'JobFailed', data: { errorCode: 'unknown_provider_error', message: null, detail: 'boom', at } };
const canceled: JobEvent = { type: 'JobCanceled', data: { at } };
const taskEnded: JobEvent = { type: 'JobProviderTaskEnded', data: { reason: 'finished_at_provider', at } };

const failedOver: JobEvent = { type: 'JobSubmissionRetryScheduled', data: { provider: 'seedance', attempt: 1, reason: 'provider_error', retryAt: at, nextProvider: 'fal', at } };

const queuedJob = [submitted];
const validatingJob = [submitted, validating];
const validatedJob = [submitted, validating, validated];
const dispatchingJob = [...validatedJob, intended];
const runningJob = [...dispatchingJob, accepted];
const delayedJob = [...runningJob, delayed];

const cmd = {
  submit: { type: 'SubmitJob', data: submittedData, now } as JobCommand,
  startValidation: { type: 'StartValidation', now } as JobCommand,
  completeValidation: { type: 'CompleteValidation', referenceImage: null, now } as JobCommand,
  intend: { type: 'RecordSubmissionIntent', provider: 'seedance', attempt: 1, submissionKey: 'k1', now } as JobCommand,
  accept: { type: 'RecordProviderAccepted', provider: 'seedance', providerTaskId: 'cgt-1', now } as JobCommand,
  progress: (p: number) => ({ type: 'RecordProgress', progress: p, now }) as JobCommand,
  delay: { type: 'MarkDelayed', now } as JobCommand,
  succeed: { type: 'Succeed', output, now } as JobCommand,
  fail: (errorCode: string, message: string | null = null) => ({ type: 'Fail', errorCode, message, detail: null, now }) as JobCommand,
  cancel: { type: 'Cancel', now } as JobCommand,
  taskEnded: { type: 'RecordProviderTaskEnded', reason: 'finished_at_provider', now } as JobCommand,
};

describe('job decider', () => {
  describe('legal transitions', () => {
    it('submit: nothing → queued', () => given([]).when(cmd.submit).then([submitted]));
    it('queued → validating', () => given(queuedJob).when(cmd.startValidation).then([validating]));
    it('validating → validated (still validating)', () => given(validatingJob).when(cmd.completeValidation).then([validated]));
    it('validated → submission intent recorded before the provider call', () =>
      given(validatedJob).when(cmd.intend).then([intended]));
    it('a second intent after a failed attempt counts the attempt', () =>
      given(dispatchingJob)
        .when({ ...cmd.intend, attempt: 2, submissionKey: 'k2' } as JobCommand)
        .then([{ ...intended, data: { ...intended.data, attempt: 2, submissionKey: 'k2' } } as JobEvent]));
    it('an intent for a try already recorded (a concurrent delivery won) is a no-op', () => given(dispatchingJob).when(cmd.intend).then([]));
    it('a refusal that sends the job on to another provider names it in the retry', () =>
      given(dispatchingJob)
        .when({ type: 'ScheduleSubmissionRetry', reason: 'provider_error', retryAt: now, nextProvider: 'fal', answersRetries: 0, now } as JobCommand)
        .then([{ type: 'JobSubmissionRetryScheduled', data: { provider: 'seedance', attempt: 1, reason: 'provider_error', retryAt: at, nextProvider: 'fal', at } }]));
    it('after a failover, the next try goes to the provider it named', () =>
      given([...dispatchingJob, failedOver])
        .when({ ...cmd.intend, provider: 'fal', attempt: 2, submissionKey: 'k2' } as JobCommand)
        .then([{ ...intended, data: { ...intended.data, provider: 'fal', attempt: 2, submissionKey: 'k2' } } as JobEvent]));
    it('after a plain retry, the next try may go to the same provider', () =>
      given([...dispatchingJob, failedOver, { ...intended, data: { ...intended.data, provider: 'fal', attempt: 2, submissionKey: 'k2' } } as JobEvent, { type: 'JobSubmissionRetryScheduled', data: { provider: 'fal', attempt: 2, reason: 'rate_limited', retryAt: at, at } }])
        .when({ ...cmd.intend, provider: 'fal', attempt: 3, submissionKey: 'k3' } as JobCommand)
        .then([{ ...intended, data: { ...intended.data, provider: 'fal', attempt: 3, submissionKey: 'k3' } } as JobEvent]));
    it('intent → running when the provider accepts', () => given(dispatchingJob).when(cmd.accept).then([accepted]));
    it('running → progress recorded', () =>
      given(runningJob).when(cmd.progress(40)).then([{ type: 'JobProgressed', data: { progress: 40, at } }]));
    it('running → delayed', () => given(runningJob).when(cmd.delay).then([delayed]));
    it('running → succeeded charges the estimate', () => given(runningJob).when(cmd.succeed).then([succeeded]));
    it('delayed → succeeded', () => given(delayedJob).when(cmd.succeed).then([succeeded]));
    it('delayed → failed with provider_timeout', () =>
      given(delayedJob)
        .when(cmd.fail('provider_timeout'))
        .then([{ type: 'JobFailed', data: { errorCode: 'provider_timeout', message: null, detail: null, at } }]));
    it('running → failed with output_missing', () =>
      given(runningJob)
        .when(cmd.fail('output_missing'))
        .then([{ type: 'JobFailed', data: { errorCode: 'output_missing', message: null, detail: null, at } }]));
    it('queued → failed with validation_failed and its own message', () =>
      given(queuedJob)
        .when(cmd.fail('validation_failed', 'Duration must be between 1 and 10 seconds.'))
        .then([{ type: 'JobFailed', data: { errorCode: 'validation_failed', message: 'Duration must be between 1 and 10 seconds.', detail: null, at } }]));
    it('validating → failed with asset_fetch_failed', () =>
      given(validatingJob)
        .when(cmd.fail('asset_fetch_failed'))
        .then([{ type: 'JobFailed', data: { errorCode: 'asset_fetch_failed', message: null, detail: null, at } }]));
    it('validating (dispatch) → failed with provider_rate_limited', () =>
      given(dispatchingJob)
        .when(cmd.fail('provider_rate_limited'))
        .then([{ type: 'JobFailed', data: { errorCode: 'provider_rate_limited', message: null, detail: null, at } }]));
    it('running → failed with moderation_rejected (after generation)', () =>
      given(runningJob)
        .when(cmd.fail('moderation_rejected'))
        .then([{ type: 'JobFailed', data: { errorCode: 'moderation_rejected', message: null, detail: null, at } }]));
    for (const [name, history] of Object.entries({ queued: queuedJob, validating: validatingJob, running: runningJob, delayed: delayedJob })) {
      it(`${name} → canceled`, () => given(history).when(cmd.cancel).then([canceled]));
    }
  });

  describe('repeats are no-ops (redelivered messages change nothing)', () => {
    it('validation started twice', () => given(validatingJob).when(cmd.startValidation).then([]));
    it('validated twice', () => given(validatedJob).when(cmd.completeValidation).then([]));
    it('same provider task accepted twice', () => given(runningJob).when(cmd.accept).then([]));
    it('progress that does not move forward', () => given([...runningJob, { type: 'JobProgressed', data: { progress: 50, at } }]).when(cmd.progress(30)).then([]));
    it('delayed twice', () => given(delayedJob).when(cmd.delay).then([]));
    it('cancel of a canceled job', () => given([...queuedJob, canceled]).when(cmd.cancel).then([]));
    it('intent while already running', () => given(runningJob).when(cmd.intend).then([]));
    it('task end recorded twice', () => given([...runningJob, canceled, taskEnded]).when(cmd.taskEnded).then([]));
    describe('a refused try', () => {
      const retry = (answersRetries: number) => ({ type: 'ScheduleSubmissionRetry', reason: 'provider_error', retryAt: now, answersRetries, now }) as JobCommand;
      const retried: JobEvent = { type: 'JobSubmissionRetryScheduled', data: { provider: 'seedance', attempt: 1, reason: 'provider_error', retryAt: at, at } };
      it('recorded once though its append is repeated (the reply to the first was lost)', () => given([...dispatchingJob, retried]).when(retry(0)).then([]));
      it('after another refused try under the same intent (a provider that finds tasks by our key) is a retry of its own', () =>
        given([...dispatchingJob, retried]).when(retry(1)).then([retried]));
    });
  });

  describe('when it started', () => {
    it('is unknown until a provider accepts the job, then the acceptance time, on the public job too', () => {
      const queued = dispatchingJob.reduce(jobDecider.evolve, jobDecider.initialState());
      expect(queued.startedAt).toBeNull();
      expect(toPublicJob(queued)).not.toHaveProperty('startedAt');
      const later = '2026-11-28T13:00:00.000Z';
      const state = [...runningJob, { type: 'JobDelayed', data: { at: later } } as JobEvent].reduce(jobDecider.evolve, jobDecider.initialState());
      expect(state.startedAt).toBe(at);
      expect(toPublicJob(state).startedAt).toBe(at);
    });
  });

  describe('whether a failed job is worth submitting again', () => {
    const failedWith = (errorCode: JobErrorCode) =>
      toPublicJob([...runningJob, { type: 'JobFailed', data: { errorCode, message: null, detail: null, at } } as JobEvent].reduce(jobDecider.evolve, jobDecider.initialState()));

    it('says yes for trouble at the provider, no where the request itself has to change', () => {
      expect(failedWith('provider_timeout').retryable).toBe(true);
      expect(failedWith('provider_rate_limited').retryable).toBe(true);
      expect(failedWith('output_missing').retryable).toBe(true);
      expect(failedWith('unknown_provider_error').retryable).toBe(true);
      expect(failedWith('validation_failed').retryable).toBe(false);
      expect(failedWith('moderation_rejected').retryable).toBe(false);
      expect(failedWith('asset_fetch_failed').retryable).toBe(false);
    });

    it('is absent on a job that has not failed', () => {
      expect(toPublicJob(runningJob.reduce(jobDecider.evolve, jobDecider.initialState()))).not.toHaveProperty('retryable');
      expect(toPublicJob([...runningJob, canceled].reduce(jobDecider.evolve, jobDecider.initialState()))).not.toHaveProperty('retryable');
    });
  });

  describe('links', () => {
    const linksOf = (events: JobEvent[]) => {
      const state = events.reduce(jobDecider.evolve, jobDecider.initialState());
      return { id: state.jobId, links: toPublicJob(state).links };
    };

    it('offer the stream and a cancel while the job is unfinished, the video once it has one, a regenerate always', () => {
      const running = linksOf(runningJob);
      const self = `/v1/jobs/${running.id}`;
      expect(running.links).toEqual({ self, events: `${self}/events`, stream: `${self}/stream`, cancel: `${self}/cancel`, regenerate: `${self}/regenerate` });
      expect(linksOf([...runningJob, succeeded]).links).toEqual({ self, events: `${self}/events`, content: `${self}/content`, poster: `${self}/poster`, regenerate: `${self}/regenerate` });
      expect(linksOf([...runningJob, failed]).links).toEqual({ self, events: `${self}/events`, regenerate: `${self}/regenerate` });
      expect(linksOf([...runningJob, canceled]).links).not.toHaveProperty('cancel');
    });

    it('drop the video once its file is deleted', () => {
      const gone = linksOf([...runningJob, succeeded, { type: 'JobOutputDeleted', data: { reason: 'user', at } } as JobEvent]);
      expect(gone.links).not.toHaveProperty('content');
      expect(gone.links).not.toHaveProperty('poster');
    });
  });

  describe('a canceled job whose provider task may still run', () => {
    it('canceled while running → the task end is recorded', () => given([...runningJob, canceled]).when(cmd.taskEnded).then([taskEnded]));
    it('canceled while delayed → the task end is recorded', () => given([...delayedJob, canceled]).when(cmd.taskEnded).then([taskEnded]));
    it('canceled before any task was accepted → nothing to record', () => given([...dispatchingJob, canceled]).when(cmd.taskEnded).then([]));
    it('succeeded or failed → the task is over already', () => {
      given([...runningJob, succeeded]).when(cmd.taskEnded).then([]);
      given([...runningJob, failed]).when(cmd.taskEnded).then([]);
    });
    it('the task end keeps the job canceled, and is a new public version that says how the task ended', () => {
      const laterAt = '2026-11-28T13:00:00.000Z';
      const ended = (reason: 'canceled_at_provider' | 'finished_at_provider' | 'deadline_passed'): JobEvent => ({ type: 'JobProviderTaskEnded', data: { reason, at: laterAt } });
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      const events = [...runningJob, canceled, ended('deadline_passed')];
      const state = fold(events);
      expect(state).toMatchObject({ status: 'canceled', providerTaskOpen: false, updatedAt: laterAt, completedAt: at });
      expect(toPublicJob(state).version).toBe(events.length);
      expect(toPublicJob(fold([...runningJob, canceled])).cancellation).toEqual({ providerTask: 'stopping' });
      expect(toPublicJob(fold([...runningJob, canceled, ended('canceled_at_provider')])).cancellation).toEqual({ providerTask: 'stopped' });
      expect(toPublicJob(fold([...runningJob, canceled, ended('finished_at_provider')])).cancellation).toEqual({ providerTask: 'ended' });
      expect(toPublicJob(state).cancellation).toEqual({ providerTask: 'unknown' });
    });
    it('a job canceled before it was sent says no provider task was made; only canceled jobs carry a cancellation', () => {
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      expect(toPublicJob(fold([...queuedJob, canceled])).cancellation).toEqual({ providerTask: 'none' });
      expect(toPublicJob(fold([...validatedJob, canceled])).cancellation).toEqual({ providerTask: 'none' });
      for (const events of [runningJob, [...runningJob, succeeded], [...runningJob, failed]]) expect(toPublicJob(fold(events))).not.toHaveProperty('cancellation');
    });
  });

  describe('a submit that raced the cancel and was accepted all the same', () => {
    const lateAccepted: JobEvent = { type: 'JobProviderAcceptedAfterCancel', data: { provider: 'seedance', providerTaskId: 'cgt-1', at } };
    it('canceled with an unanswered intent → the task is recorded, the job stays canceled', () =>
      given([...dispatchingJob, canceled]).when(cmd.accept).then([lateAccepted]));
    it('recorded once: a repeat changes nothing, another task id is refused', () => {
      given([...dispatchingJob, canceled, lateAccepted]).when(cmd.accept).then([]);
      given([...dispatchingJob, canceled, lateAccepted]).when({ ...cmd.accept, providerTaskId: 'cgt-2' } as JobCommand).thenThrows(IllegalTransitionError);
    });
    it('its task ends like a canceled running job\'s', () => given([...dispatchingJob, canceled, lateAccepted]).when(cmd.taskEnded).then([taskEnded]));
    it('the job keeps its status and holds its task open; its cancellation goes from unknown to stopping in a new public version', () => {
      const before = [...dispatchingJob, canceled].reduce(jobDecider.evolve, jobDecider.initialState());
      const after = jobDecider.evolve(before, lateAccepted);
      expect(after).toMatchObject({ status: 'canceled', providerTaskId: 'cgt-1', providerTaskOpen: true });
      expect(toPublicJob(after).version).toBe(toPublicJob(before).version + 1);
      expect(toPublicJob(before).cancellation).toEqual({ providerTask: 'unknown' });
      expect(toPublicJob(after).cancellation).toEqual({ providerTask: 'stopping' });
      expect(mayHoldProviderTask(after)).toBe(true);
      expect(mayHoldProviderTask(jobDecider.evolve(after, taskEnded))).toBe(false);
    });
    it('a provider found to have no task of it (asked by our key): recorded once, the cancellation says none, and nothing is held', () => {
      const noTask = { type: 'RecordNoProviderTask', now } as JobCommand;
      const notStarted: JobEvent = { type: 'JobProviderTaskEnded', data: { reason: 'not_started', at } };
      given([...dispatchingJob, canceled]).when(noTask).then([notStarted]);
      given([...dispatchingJob, canceled, notStarted]).when(noTask).then([]);
      given([...dispatchingJob, canceled, lateAccepted]).when(noTask).thenThrows(IllegalTransitionError);
      given(dispatchingJob).when(noTask).thenThrows(IllegalTransitionError);
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      const settled = fold([...dispatchingJob, canceled, notStarted]);
      expect(toPublicJob(settled)).toMatchObject({ status: 'canceled', version: dispatchingJob.length + 2, cancellation: { providerTask: 'none' } });
      expect(mayHoldProviderTask(settled)).toBe(false);
      // Should the provider answer after all, the task is recorded and stopped like any late acceptance.
      const late = fold([...dispatchingJob, canceled, notStarted, lateAccepted]);
      expect(toPublicJob(late).cancellation).toEqual({ providerTask: 'stopping' });
    });
    it('while the submit is unanswered the task may exist; a cancel before any intent holds nothing', () => {
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      expect(mayHoldProviderTask(fold([...dispatchingJob, canceled]))).toBe(true);
      expect(mayHoldProviderTask(fold([...validatedJob, canceled]))).toBe(false);
      expect(mayHoldProviderTask(fold([...dispatchingJob, { type: 'JobFailed', data: { errorCode: 'unknown_provider_error', message: null, detail: null, at } }]))).toBe(false);
    });
    it('a job failed because its submit went unanswered at a provider that cannot be asked says so, and may hold a task', () => {
      const lostAnswer: JobEvent = { type: 'JobFailed', data: { errorCode: 'unknown_provider_error', message: null, detail: 'timeout', providerTaskMayExist: true, at } };
      given(dispatchingJob)
        .when({ type: 'Fail', errorCode: 'unknown_provider_error', detail: 'timeout', providerTaskMayExist: true, now } as JobCommand)
        .then([lostAnswer]);
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      expect(mayHoldProviderTask(fold([...dispatchingJob, lostAnswer]))).toBe(true);
    });
  });

  describe('a job generated again', () => {
    const again = { ...submittedData, jobId: 'job_01JABCDEFGHJKMNPQRSTVWXYZ1', parentJobId: submittedData.jobId };
    it('records the job it repeats, and shows it to the client; a plain submit shows none', () => {
      given([]).when({ type: 'SubmitJob', data: again, now } as JobCommand).then([{ type: 'JobSubmitted', data: { ...again, at } }]);
      const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
      expect(toPublicJob(fold([{ type: 'JobSubmitted', data: { ...again, at } }])).parentJobId).toBe(submittedData.jobId);
      expect(toPublicJob(fold([submitted]))).not.toHaveProperty('parentJobId');
    });
  });

  describe('deleting a succeeded job\'s output', () => {
    const day = 86_400_000;
    const later = (ms: number) => new Date(now.getTime() + ms);
    const kept = { type: 'JobSucceeded', data: { output: { ...output, expiresAt: later(30 * day).toISOString() }, creditsCharged: 25, at } } as JobEvent;
    const retention = (when: Date) => ({ type: 'DeleteOutput', reason: 'retention', now: when }) as JobCommand;
    const byUser = { type: 'DeleteOutput', reason: 'user', now } as JobCommand;
    const deleted = (reason: 'retention' | 'user', when: Date) => ({ type: 'JobOutputDeleted', data: { reason, at: when.toISOString() } }) as JobEvent;
    const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());

    it('once the expiry it was stored with has passed', () => given([...runningJob, kept]).when(retention(later(30 * day))).then([deleted('retention', later(30 * day))]));
    it('not before that expiry', () => given([...runningJob, kept]).when(retention(later(30 * day - 1))).thenThrows(IllegalTransitionError));
    it('an output stored with no expiry was promised to be kept: no retention reaches it', () => given([...runningJob, succeeded]).when(retention(later(365 * day))).thenThrows(IllegalTransitionError));
    it('its owner may delete it at any time', () => given([...runningJob, kept]).when(byUser).then([deleted('user', now)]));
    it('a second deletion changes nothing', () => given([...runningJob, kept, deleted('user', now)]).when(retention(later(31 * day))).then([]));
    it('only a succeeded job has an output', () => {
      for (const history of [runningJob, [...runningJob, failed], [...runningJob, canceled], []]) given(history).when(byUser).thenThrows(IllegalTransitionError);
    });
    it('the client sees when the file goes, then that it went, in words; the status stays succeeded', () => {
      const stored = toPublicJob(fold([...runningJob, kept]));
      expect(stored.output).toMatchObject({ expiresAt: later(30 * day).toISOString() });
      expect(stored.output).not.toHaveProperty('deletedAt');
      expect(toPublicJob(fold([...runningJob, succeeded])).output).toEqual(output);
      const gone = toPublicJob(fold([...runningJob, kept, deleted('retention', later(30 * day))]));
      expect(gone).toMatchObject({ status: 'succeeded', output: { deletedAt: later(30 * day).toISOString(), sha256: output.sha256 } });
      expect(gone.message).toMatch(/deleted/);
      expect(gone.version).toBeGreaterThan(stored.version);
    });
  });

  describe('illegal transitions are rejected', () => {
    const illegal: [string, JobEvent[], JobCommand][] = [
      ['submit twice', queuedJob, cmd.submit],
      ['anything before submit', [], cmd.startValidation],
      ['queued → succeeded', queuedJob, cmd.succeed],
      ['validating → delayed', validatingJob, cmd.delay],
      ['queued → running without intent', queuedJob, cmd.accept],
      ['validated → running without intent', validatedJob, cmd.accept],
      ['intent before validation', validatingJob, cmd.intend],
      ['complete validation before it started', queuedJob, cmd.completeValidation],
      ['succeeded → failed', [...runningJob, succeeded], cmd.fail('unknown_provider_error')],
      ['succeeded → canceled', [...runningJob, succeeded], cmd.cancel],
      ['failed → canceled', [...runningJob, failed], cmd.cancel],
      ['failed → succeeded', [...runningJob, failed], cmd.succeed],
      ['canceled → running (no submit was under way)', [...validatedJob, canceled], cmd.accept],
      ['canceled → running (the task was accepted before the cancel)', [...runningJob, canceled], { ...cmd.accept, providerTaskId: 'cgt-2' } as JobCommand],
      ['canceled → succeeded', [...runningJob, canceled], cmd.succeed],
      ['running → validation_failed', runningJob, cmd.fail('validation_failed')],
      ['queued → output_missing', queuedJob, cmd.fail('output_missing')],
      ['queued → progress', queuedJob, cmd.progress(10)],
      ['task end while the job still runs', runningJob, cmd.taskEnded],
      ['running accepted under another task id', runningJob, { ...cmd.accept, providerTaskId: 'cgt-2' } as JobCommand],
      ['accepted by a provider the submission was not intended for', dispatchingJob, { ...cmd.accept, provider: 'fal' } as JobCommand],
      ['a failover to the provider that refused the try', dispatchingJob, { type: 'ScheduleSubmissionRetry', reason: 'provider_error', retryAt: now, nextProvider: 'seedance', answersRetries: 0, now } as JobCommand],
      ['the next try at another provider than the failover named', [...dispatchingJob, failedOver], { ...cmd.intend, attempt: 2, submissionKey: 'k2' } as JobCommand],
    ];
    for (const [name, history, command] of illegal) {
      it(name, () => given(history).when(command).thenThrows(IllegalTransitionError));
    }
  });
});

describe('job decider: a deadline (cancelAfterSeconds)', () => {
  const withDeadline = (seconds: number): JobEvent => ({ type: 'JobSubmitted', data: { ...submittedData, cancelAfterSeconds: seconds, at } });
  const atDeadline = (secondsLater: number) => ({ type: 'Cancel', atDeadline: true, now: new Date(now.getTime() + secondsLater * 1000) }) as JobCommand;
  const canceledAtDeadline: JobEvent = { type: 'JobCanceled', data: { reason: 'deadline', at: new Date(now.getTime() + 600_000).toISOString() } };

  const checked = (secondsLater: number) => ({ ...atDeadline(secondsLater), providerChecked: true }) as JobCommand;
  const canceledAt = (secondsLater: number): JobEvent => ({ type: 'JobCanceled', data: { reason: 'deadline', at: new Date(now.getTime() + secondsLater * 1000).toISOString() } });

  it('given a job no provider has accepted yet, when reelay cancels it at its 10-minute deadline, then it is canceled saying so', () =>
    given([withDeadline(600), validating, validated, intended]).when(atDeadline(600)).then([canceledAtDeadline]));
  it('given a job running at a provider, when the check at its deadline finds the task unfinished, then it is canceled saying so', () =>
    given([withDeadline(600), validating, validated, intended, accepted]).when(checked(600)).then([canceledAtDeadline]));
  it('given a job running at a provider, when reelay would cancel it at the deadline without asking the provider, then that waits for the check (the video may be done)', () => {
    given([withDeadline(600), validating, validated, intended, accepted]).when(atDeadline(600)).thenThrows(IllegalTransitionError, /checked at the deadline first/);
    given([withDeadline(600), validating, validated, intended, accepted, delayed]).when(atDeadline(600 + DEADLINE_CHECK_GRACE_MS / 1000 - 1)).thenThrows(IllegalTransitionError, /checked at the deadline first/);
  });
  it('given a job running at a provider that no check settled, when the grace after its deadline has passed too, then it is canceled unchecked', () =>
    given([withDeadline(600), validating, validated, intended, accepted]).when(atDeadline(600 + DEADLINE_CHECK_GRACE_MS / 1000)).then([canceledAt(600 + DEADLINE_CHECK_GRACE_MS / 1000)]));
  it('tells when a deadline cancel that does not ask the provider may be made', () => {
    const fold = (events: JobEvent[]) => events.reduce(jobDecider.evolve, jobDecider.initialState());
    expect(deadlineCancelDue(fold([withDeadline(600), validating]))).toEqual(new Date(now.getTime() + 600_000));
    expect(deadlineCancelDue(fold([withDeadline(600), validating, validated, intended, accepted]))).toEqual(new Date(now.getTime() + 600_000 + DEADLINE_CHECK_GRACE_MS));
    expect(deadlineCancelDue(fold([submitted]))).toBeNull();
  });
  it('given a job whose deadline has not come, when reelay would cancel it, then that is refused', () =>
    given([withDeadline(600), validating]).when(atDeadline(599)).thenThrows(IllegalTransitionError, /deadline has not passed/));
  it('given a job without a deadline, when reelay would cancel it at one, then that is refused', () =>
    given(runningJob).when(atDeadline(10 ** 6)).thenThrows(IllegalTransitionError, /it has no deadline/));
  it('given a job that finished first, when its deadline comes, then nothing is canceled', () => {
    given([withDeadline(600), validating, validated, intended, accepted, succeeded]).when(atDeadline(601)).thenThrows(IllegalTransitionError);
    given([withDeadline(600), canceled]).when(atDeadline(601)).then([]);
  });
  it('shows the deadline on the job, and a job canceled at it says why in plain words', () => {
    const state = [withDeadline(600), validating, canceledAtDeadline].reduce(jobDecider.evolve, jobDecider.initialState());
    expect(toPublicJob(state)).toMatchObject({
      status: 'canceled',
      cancelAfterSeconds: 600,
      cancelAt: '2026-11-28T12:10:00.000Z',
      message: 'This video was canceled: it was not ready within the 10 minutes you allowed.',
      cancellation: { providerTask: 'none', reason: 'deadline' },
    });
    const byOwner = [withDeadline(90), canceled].reduce(jobDecider.evolve, jobDecider.initialState());
    expect(toPublicJob(byOwner)).toMatchObject({ message: 'This video was canceled.', cancellation: { providerTask: 'none' } });
    expect(toPublicJob(byOwner).cancellation).not.toHaveProperty('reason');
    expect(toPublicJob([submitted].reduce(jobDecider.evolve, jobDecider.initialState()))).not.toHaveProperty('cancelAt');
  });
});
