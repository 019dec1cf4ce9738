import { userMessage, type Job } from '@reelay/contracts';
import type { JobState } from './job-state';

/** The public job (api.md) of a folded state. */
export function toPublicJob(state: JobState): Job {
  return {
    id: state.jobId,
    object: 'video.job',
    status: state.status,
    message: userMessage(state.status, state.errorCode, state.failureMessage),
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
    output: state.output,
    credits: { estimated: state.creditsEstimated, charged: state.creditsCharged },
    webhookUrl: state.webhookUrl,
    metadata: state.metadata,
    createdAt: state.createdAt ?? '',
    updatedAt: state.updatedAt ?? '',
    completedAt: state.completedAt,
    version: state.publicVersion,
    ...(state.parentJobId ? { parentJobId: state.parentJobId } : {}),
  };
}
