import type { JobEvent } from '@reelay/contracts';
import type { JobState } from './job-state';

export function evolveJob(state: JobState, event: JobEvent): JobState {
  const eventsFolded = state.eventsFolded + 1;
  const touched = { ...state, eventsFolded, publicVersion: eventsFolded, updatedAt: event.data.at };
  switch (event.type) {
    case 'JobSubmitted': {
      const d = event.data;
      return {
        ...touched,
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
        creditsEstimated: d.creditsEstimated,
        createdAt: d.at,
      };
    }
    case 'JobValidationStarted':
      return { ...touched, status: 'validating' };
    case 'JobValidated':
      return { ...touched, validated: true };
    case 'JobSubmissionIntended':
      return {
        ...touched,
        provider: event.data.provider,
        intent: { provider: event.data.provider, attempt: event.data.attempt, submissionKey: event.data.submissionKey },
        submissionAttempts: event.data.attempt,
      };
    case 'JobSubmissionRetryScheduled':
      return touched;
    case 'JobProviderAccepted':
      return { ...touched, status: 'running', provider: event.data.provider, providerTaskId: event.data.providerTaskId, providerTaskOpen: true, progress: state.progress ?? 0, startedAt: state.startedAt ?? event.data.at };
    case 'JobProgressed':
      return { ...touched, progress: event.data.progress };
    case 'JobDelayed':
      return { ...touched, status: 'delayed' };
    case 'JobSucceeded':
      return {
        ...touched,
        status: 'succeeded',
        providerTaskOpen: false,
        progress: 100,
        output: event.data.output,
        creditsCharged: event.data.creditsCharged,
        completedAt: event.data.at,
      };
    case 'JobFailed':
      return {
        ...touched,
        status: 'failed',
        providerTaskOpen: false,
        providerTaskMayExist: event.data.providerTaskMayExist === true,
        errorCode: event.data.errorCode,
        failureMessage: event.data.message,
        creditsCharged: 0,
        completedAt: event.data.at,
      };
    case 'JobOutputDeleted':
      return { ...touched, outputDeletedAt: event.data.at };
    case 'JobCanceled':
      return { ...touched, status: 'canceled', creditsCharged: 0, completedAt: event.data.at };
    case 'JobProviderAcceptedAfterCancel':
      // The job stays canceled; its cancellation now says a provider task is being stopped.
      return { ...touched, providerTaskId: event.data.providerTaskId, providerTaskOpen: true };
    case 'JobProviderTaskEnded':
      return { ...touched, providerTaskOpen: false, providerTaskEnd: event.data.reason };
  }
}
