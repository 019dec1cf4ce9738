import { OUTPUT_DELETED_MESSAGE, userMessage, type Job, type JobOutput, type PublicJobOutput } from '@reelay/contracts';
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

/** The public job (api.md) of a folded state. */
export function toPublicJob(state: JobState): Job {
  return {
    id: state.jobId,
    object: 'video.job',
    status: state.status,
    message: jobMessage(state),
    errorCode: state.status === 'failed' ? state.errorCode : null,
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
  };
}
