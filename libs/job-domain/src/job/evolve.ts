import type { JobEvent } from '@reelay/contracts';
import type { JobState } from './job-state';

export function evolveJob(state: JobState, event: JobEvent): JobState {
  const eventsFolded = state.eventsFolded + 1;
  const next = { ...state, eventsFolded, updatedAt: event.data.at };
  switch (event.type) {
    case 'JobSubmitted': {
      const d = event.data;
      return {
        ...next,
        exists: true,
        jobId: d.jobId,
        userId: d.userId,
        status: 'queued',
        model: d.model,
        provider: d.provider,
        prompt: d.prompt,
        negativePrompt: d.negativePrompt,
        aspectRatio: d.aspectRatio,
        durationSeconds: d.durationSeconds,
        resolution: d.resolution,
        seed: d.seed,
        referenceImage: d.referenceImage,
        webhookUrl: d.webhookUrl,
        webhookEvents: d.webhookEvents ?? null,
        metadata: d.metadata,
        requestHash: d.requestHash,
        parentJobId: d.parentJobId ?? null,
        cancelAfterSeconds: d.cancelAfterSeconds ?? null,
        creditsEstimated: d.creditsEstimated,
        createdAt: d.at,
      };
    }
    case 'JobValidationStarted':
      return { ...next, status: 'validating' };
    case 'JobValidated':
      return { ...next, validated: true, referenceImageFitted: event.data.referenceImage?.fitted ?? null };
    case 'JobSubmissionIntended':
      return {
        ...next,
        provider: event.data.provider,
        intent: { provider: event.data.provider, attempt: event.data.attempt, submissionKey: event.data.submissionKey },
        submissionAttempts: event.data.attempt,
        failoverTo: null,
      };
    case 'JobSubmissionRetryScheduled':
      return { ...next, submissionRetries: state.submissionRetries + 1, failoverTo: event.data.nextProvider ?? null };
    case 'JobProviderAccepted':
      return { ...next, status: 'running', provider: event.data.provider, providerTaskId: event.data.providerTaskId, providerTaskOpen: true, progress: state.progress ?? 0, startedAt: state.startedAt ?? event.data.at };
    case 'JobProgressed':
      return { ...next, progress: event.data.progress };
    case 'JobDelayed':
      return { ...next, status: 'delayed' };
    case 'JobSucceeded':
      return {
        ...next,
        status: 'succeeded',
        providerTaskOpen: false,
        progress: 100,
        output: event.data.output,
        creditsCharged: event.data.creditsCharged,
        completedAt: event.data.at,
      };
    case 'JobFailed':
      return {
        ...next,
        status: 'failed',
        providerTaskOpen: false,
        providerTaskMayExist: event.data.providerTaskMayExist === true,
        errorCode: event.data.errorCode,
        failureMessage: event.data.message,
        creditsCharged: 0,
        completedAt: event.data.at,
      };
    case 'JobOutputDeleted':
      return { ...next, outputDeletedAt: event.data.at };
    case 'JobCanceled':
      return { ...next, status: 'canceled', creditsCharged: 0, completedAt: event.data.at, canceledAtDeadline: event.data.reason === 'deadline' };
    case 'JobProviderAcceptedAfterCancel':
      // The job stays canceled; its cancellation now says a provider task is being stopped.
      return { ...next, providerTaskId: event.data.providerTaskId, providerTaskOpen: true };
    case 'JobProviderTaskEnded':
      return { ...next, providerTaskOpen: false, providerTaskEnd: event.data.reason };
  }
}
