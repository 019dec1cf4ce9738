import { isTerminal, type JobErrorCode, type JobEvent } from '@reelay/contracts';
import { IllegalTransitionError } from '../shared/decider';
import type { JobCommand } from './job-commands';
import { cancelAt, canceledWithUnansweredSubmit, deadlineCancelDue, type JobState } from './job-state';

const VALIDATION_ONLY_CODES: readonly JobErrorCode[] = ['validation_failed', 'asset_fetch_failed'];
const AFTER_SUBMISSION_ONLY_CODES: readonly JobErrorCode[] = ['output_missing', 'provider_timeout'];

function reject(command: JobCommand, state: JobState, reason?: string): never {
  throw new IllegalTransitionError(command.type, state.exists ? state.status : 'not submitted', reason);
}

/**
 * The job lifecycle in one pure function. Returns the events a command produces, [] when its
 * outcome is already in the state (so redelivered messages are harmless), and throws
 * IllegalTransitionError for anything the lifecycle does not allow.
 */
export function decideJob(command: JobCommand, state: JobState): JobEvent[] {
  const at = command.now.toISOString();
  if (command.type === 'SubmitJob') {
    if (state.exists) reject(command, state, 'the job already exists');
    return [{ type: 'JobSubmitted', data: { ...command.data, at } }];
  }
  if (!state.exists) reject(command, state);
  const s = state.status;

  if (command.type === 'Cancel') {
    if (s === 'canceled') return [];
    if (isTerminal(s)) reject(command, state);
    if (!command.atDeadline) return [{ type: 'JobCanceled', data: { at } }];
    const deadline = cancelAt(state);
    if (!deadline) reject(command, state, 'it has no deadline');
    if (command.now < deadline) reject(command, state, 'its deadline has not passed');
    if (!command.providerChecked && command.now < deadlineCancelDue(state)!) reject(command, state, 'its provider task is checked at the deadline first');
    return [{ type: 'JobCanceled', data: { reason: 'deadline', at } }];
  }
  if (command.type === 'RecordProviderAccepted' && s === 'canceled' && state.intent?.provider === command.provider) {
    // The submit raced the cancel and the provider took it: the job stays canceled, but its task
    // exists and must be stopped or waited out (polling), holding its capacity slot meanwhile.
    if (state.providerTaskId === command.providerTaskId) return [];
    if (state.providerTaskId) reject(command, state, `already accepted as ${state.providerTaskId}`);
    return [{ type: 'JobProviderAcceptedAfterCancel', data: { provider: command.provider, providerTaskId: command.providerTaskId, at } }];
  }
  if (command.type === 'RecordNoProviderTask') {
    if (state.providerTaskEnd === 'not_started') return [];
    if (!canceledWithUnansweredSubmit(state)) reject(command, state, 'only a canceled job whose submit went unanswered can be found to have no task');
    return [{ type: 'JobProviderTaskEnded', data: { reason: 'not_started', at } }];
  }
  if (command.type === 'RecordProviderTaskEnded') {
    if (!state.providerTaskOpen) return [];
    if (s !== 'canceled') reject(command, state, 'only a canceled job outlives its provider task');
    return [{ type: 'JobProviderTaskEnded', data: { reason: command.reason, at } }];
  }
  if (command.type === 'DeleteOutput') {
    if (s !== 'succeeded' || !state.output) reject(command, state, 'only a succeeded job has an output');
    if (state.outputDeletedAt) return [];
    if (command.reason === 'retention') {
      const expiresAt = state.output.expiresAt;
      // An output stored with no expiry was promised to be kept: a retention set later does not reach it.
      if (!expiresAt || Date.parse(expiresAt) > command.now.getTime()) reject(command, state, 'the output has not expired');
    }
    return [{ type: 'JobOutputDeleted', data: { reason: command.reason, at } }];
  }
  if (isTerminal(s)) reject(command, state);

  switch (command.type) {
    case 'StartValidation':
      if (s !== 'queued') return [];
      return [{ type: 'JobValidationStarted', data: { at } }];

    case 'CompleteValidation':
      if (s === 'queued') reject(command, state, 'validation has not started');
      if (s !== 'validating' || state.validated) return [];
      return [{ type: 'JobValidated', data: { at, referenceImage: command.referenceImage } }];

    case 'RecordSubmissionIntent':
      if (s !== 'validating' || !state.validated) {
        if (s === 'running' || s === 'delayed') return [];
        reject(command, state, 'the job is not validated');
      }
      // Another delivery recorded this try first (its append won, this one re-decided): one intent, one submit.
      if (command.attempt <= state.submissionAttempts) return [];
      if (command.attempt !== state.submissionAttempts + 1) reject(command, state, `attempt ${command.attempt} does not follow attempt ${state.submissionAttempts}`);
      if (state.failoverTo && command.provider !== state.failoverTo) reject(command, state, `the job was sent on to ${state.failoverTo}`);
      return [
        {
          type: 'JobSubmissionIntended',
          data: { provider: command.provider, attempt: command.attempt, submissionKey: command.submissionKey, at },
        },
      ];

    case 'ScheduleSubmissionRetry':
      if (s !== 'validating' || !state.intent) reject(command, state, 'no submission is in progress');
      // Its answer was recorded by an append whose reply was lost: a second retry would use up a try the job never made.
      if (state.submissionRetries > command.answersRetries) return [];
      if (command.nextProvider === state.intent.provider) reject(command, state, `a failover leaves ${command.nextProvider}`);
      return [
        {
          type: 'JobSubmissionRetryScheduled',
          data: {
            provider: state.intent.provider,
            attempt: state.intent.attempt,
            reason: command.reason,
            retryAt: command.retryAt.toISOString(),
            ...(command.nextProvider ? { nextProvider: command.nextProvider } : {}),
            at,
          },
        },
      ];

    case 'RecordProviderAccepted':
      if (s === 'running' || s === 'delayed') {
        if (state.providerTaskId === command.providerTaskId) return [];
        reject(command, state, `already running as ${state.providerTaskId}`);
      }
      if (!state.intent) reject(command, state, 'no submission intent was recorded');
      if (command.provider !== state.intent.provider) reject(command, state, `the submission was intended for ${state.intent.provider}`);
      return [{ type: 'JobProviderAccepted', data: { provider: command.provider, providerTaskId: command.providerTaskId, at } }];

    case 'RecordProgress':
      if (s !== 'running' && s !== 'delayed') reject(command, state);
      if (state.progress !== null && command.progress <= state.progress) return [];
      return [{ type: 'JobProgressed', data: { progress: Math.min(100, Math.max(0, Math.round(command.progress))), at } }];

    case 'MarkDelayed':
      if (s === 'delayed') return [];
      if (s !== 'running') reject(command, state);
      return [{ type: 'JobDelayed', data: { at } }];

    case 'Succeed':
      if (s !== 'running' && s !== 'delayed') reject(command, state);
      return [{ type: 'JobSucceeded', data: { output: command.output, creditsCharged: state.creditsEstimated, at } }];

    case 'Fail':
      if (VALIDATION_ONLY_CODES.includes(command.errorCode) && s !== 'queued' && s !== 'validating') {
        reject(command, state, `${command.errorCode} only applies before submission`);
      }
      if (AFTER_SUBMISSION_ONLY_CODES.includes(command.errorCode) && s !== 'running' && s !== 'delayed') {
        reject(command, state, `${command.errorCode} only applies after submission`);
      }
      return [
        {
          type: 'JobFailed',
          data: { errorCode: command.errorCode, message: command.message ?? null, detail: command.detail ?? null, ...(command.providerTaskMayExist ? { providerTaskMayExist: true as const } : {}), at },
        },
      ];
  }
}
