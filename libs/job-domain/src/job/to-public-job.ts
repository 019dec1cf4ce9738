import { deadlineMessage, isTerminal, OUTPUT_DELETED_MESSAGE, type JobCancellation, RETRYABLE_ERROR_CODES, userMessage, type Job, type JobLinks, type JobOutput, type PublicJobOutput } from '@reelay/contracts';
import { outputDifferences } from './output-differences';
import { cancelAt, canceledWithUnansweredSubmit, type JobState, type ProviderTaskEndReason } from './job-state';

/** The user-facing text for where the job is: its status and error, or that its video was deleted. */
export const jobMessage = (state: JobState): string => {
  if (state.outputDeletedAt) return OUTPUT_DELETED_MESSAGE;
  if (state.canceledAtDeadline) return deadlineMessage(state.cancelAfterSeconds ?? 0);
  return userMessage(state.status, state.errorCode, state.failureMessage);
};

function publicOutput(state: JobState, output: JobOutput): PublicJobOutput {
  const differsFromRequest = outputDifferences(state, output);
  return {
    ...output,
    ...(state.outputDeletedAt ? { deletedAt: state.outputDeletedAt } : {}),
    ...(differsFromRequest.length ? { differsFromRequest } : {}),
  };
}

/** The routes that can do something for the job now: by its status, and whether its video is there. */
function jobLinks(job: Pick<Job, 'id' | 'status' | 'output'>): JobLinks {
  const self = `/v1/jobs/${encodeURIComponent(job.id)}`;
  const hasVideo = job.status === 'succeeded' && !!job.output && !job.output.deletedAt;
  return {
    self,
    events: `${self}/events`,
    ...(isTerminal(job.status) ? {} : { stream: `${self}/stream`, cancel: `${self}/cancel` }),
    ...(hasVideo ? { content: `${self}/content`, poster: `${self}/poster` } : {}),
    regenerate: `${self}/regenerate`,
  };
}

/**
 * The fields of a public job that follow from its others: `retryable` (a failed job's, by its error
 * code) and `links`. Also for a job stored by a release before them (job_view rows).
 */
export function derivedJobFields(job: Pick<Job, 'id' | 'status' | 'errorCode' | 'output'>): Pick<Job, 'retryable' | 'links'> {
  return {
    ...(job.status === 'failed' && job.errorCode ? { retryable: RETRYABLE_ERROR_CODES[job.errorCode] } : {}),
    links: jobLinks(job),
  };
}

/** What a canceled job's provider task ended as, in the words of its public cancellation. */
const CANCELLATION_BY_END: Record<ProviderTaskEndReason, JobCancellation['providerTask']> = {
  canceled_at_provider: 'stopped',
  finished_at_provider: 'ended',
  deadline_passed: 'unknown',
  not_started: 'none',
};

/** What a canceled job's `cancellation` says; undefined for a job that is not canceled. */
export function jobCancellation(state: JobState): JobCancellation | undefined {
  return state.status === 'canceled' ? cancellation(state) : undefined;
}

/** A canceled job's provider task as the log tells it: a task still open, its recorded end, or a submit unanswered. */
function cancellation(state: JobState): JobCancellation {
  return { providerTask: providerTaskAfterCancel(state), ...(state.canceledAtDeadline ? { reason: 'deadline' as const } : {}) };
}

function providerTaskAfterCancel(state: JobState): JobCancellation['providerTask'] {
  if (state.providerTaskOpen) return 'stopping';
  if (state.providerTaskEnd) return CANCELLATION_BY_END[state.providerTaskEnd];
  return canceledWithUnansweredSubmit(state) ? 'unknown' : 'none';
}

const publicFitted = ({ assetId, width, height, cropped }: NonNullable<JobState['referenceImageFitted']>) => ({ assetId, width, height, cropped });

/** The public job (api.md) of a folded state. */
export function toPublicJob(state: JobState): Job {
  const job: Job = {
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
    ...(state.referenceImageFitted ? { referenceImageFitted: publicFitted(state.referenceImageFitted) } : {}),
    progress: state.progress,
    output: state.output && publicOutput(state, state.output),
    credits: { estimated: state.creditsEstimated, charged: state.creditsCharged },
    webhookUrl: state.webhookUrl,
    metadata: state.metadata,
    createdAt: state.createdAt ?? '',
    updatedAt: state.updatedAt ?? '',
    ...(state.startedAt ? { startedAt: state.startedAt } : {}),
    completedAt: state.completedAt,
    version: state.eventsFolded,
    ...(state.parentJobId ? { parentJobId: state.parentJobId } : {}),
    ...(state.cancelAfterSeconds !== null ? { cancelAfterSeconds: state.cancelAfterSeconds, cancelAt: cancelAt(state)!.toISOString() } : {}),
    ...(state.webhookEvents ? { webhookEvents: state.webhookEvents } : {}),
    ...(state.status === 'canceled' ? { cancellation: cancellation(state) } : {}),
  };
  return { ...job, ...derivedJobFields(job) };
}
