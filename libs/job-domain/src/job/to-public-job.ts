import { isTerminal, OUTPUT_DELETED_MESSAGE, RETRYABLE_ERROR_CODES, userMessage, type Job, type JobLinks, type JobOutput, type JobStatus, type PublicJobOutput } from '@reelay/contracts';
import { outputDifferences } from './output-differences';
import type { JobState } from './job-state';

/** The user-facing text for where the job is: its status and error, or that its video was deleted. */
export const jobMessage = (state: JobState): string =>
  state.outputDeletedAt ? OUTPUT_DELETED_MESSAGE : userMessage(state.status, state.errorCode, state.failureMessage);

function publicOutput(state: JobState, output: JobOutput): PublicJobOutput {
  const differsFromRequest = outputDifferences(state, output);
  return {
    ...output,
    ...(state.outputDeletedAt ? { deletedAt: state.outputDeletedAt } : {}),
    ...(differsFromRequest.length ? { differsFromRequest } : {}),
  };
}

/** The routes that can do something for a job in this status (`hasVideo`: succeeded, its file not deleted). */
export function jobLinks(id: string, status: JobStatus, hasVideo: boolean): JobLinks {
  const self = `/v1/jobs/${encodeURIComponent(id)}`;
  const finished = isTerminal(status);
  return {
    self,
    events: `${self}/events`,
    ...(finished ? {} : { stream: `${self}/stream`, cancel: `${self}/cancel` }),
    ...(hasVideo ? { content: `${self}/content` } : {}),
    regenerate: `${self}/regenerate`,
  };
}

/** The public job (api.md) of a folded state. */
export function toPublicJob(state: JobState): Job {
  return {
    id: state.jobId,
    object: 'video.job',
    status: state.status,
    message: jobMessage(state),
    errorCode: state.status === 'failed' ? state.errorCode : null,
    ...(state.status === 'failed' && state.errorCode ? { retryable: RETRYABLE_ERROR_CODES[state.errorCode] } : {}),
    model: state.model,
    provider: state.provider,
    prompt: state.prompt,
    negativePrompt: state.negativePrompt,
    aspectRatio: state.aspectRatio,
    durationSeconds: state.durationSeconds,
    resolution: state.resolution,
    seed: state.seed,
    referenceImage: state.referenceImage,
    progress: state.progress,
    output: state.output && publicOutput(state, state.output),
    credits: { estimated: state.creditsEstimated, charged: state.creditsCharged },
    webhookUrl: state.webhookUrl,
    metadata: state.metadata,
    createdAt: state.createdAt ?? '',
    updatedAt: state.updatedAt ?? '',
    ...(state.startedAt ? { startedAt: state.startedAt } : {}),
    completedAt: state.completedAt,
    version: state.publicVersion,
    ...(state.parentJobId ? { parentJobId: state.parentJobId } : {}),
    ...(state.webhookEvents ? { webhookEvents: state.webhookEvents } : {}),
    links: jobLinks(state.jobId, state.status, state.status === 'succeeded' && state.output !== null && !state.outputDeletedAt),
  };
}
