import { jobStreamId, type EventMetadata } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, type JobCommand } from '@reelay/job-domain';
import type { BlobStorage } from '@reelay/storage';
import { jobFold } from '../shared/job-stream';
import { checkReferenceImage, type ImageRules } from './check-reference-image';
import { moderationViolation } from './moderation';

export interface ValidateJobDeps {
  store: EventStore;
  storage: BlobStorage;
  blockedTerms: string[];
  imageRules: ImageRules;
  now: () => Date;
}

/**
 * queued → validating → validated, or failed with the reason. Runs on JobSubmitted; a redelivery
 * finds the work done (the decider returns no events) and a job canceled meanwhile is left alone.
 */
export async function validateJob(deps: ValidateJobDeps, jobId: string, metadata: EventMetadata): Promise<void> {
  const stream = jobStreamId(jobId);
  const run = (command: (now: Date) => JobCommand) =>
    handle(deps.store, stream, jobFold, (state) => decideJob(command(deps.now()), state), { metadata });
  try {
    const started = await run((now) => ({ type: 'StartValidation', now }));
    const job = started.state;
    if (job.status !== 'validating' || job.validated) return;

    const blocked = moderationViolation(deps.blockedTerms, [job.prompt, job.negativePrompt]);
    if (blocked) {
      await run((now) => ({ type: 'Fail', errorCode: 'moderation_rejected', detail: `prompt matched moderation rule "${blocked}"`, now }));
      return;
    }
    let referenceImage = null;
    if (job.referenceImage) {
      const check = await checkReferenceImage(job.referenceImage, job.userId, deps.storage, deps.imageRules);
      if (!check.ok) {
        await run((now) => ({ type: 'Fail', errorCode: check.errorCode, message: check.message, detail: check.detail, now }));
        return;
      }
      referenceImage = check.image;
    }
    await run((now) => ({ type: 'CompleteValidation', referenceImage, now }));
  } catch (err) {
    if (err instanceof IllegalTransitionError) return;
    throw err;
  }
}
