import { jobStreamId, type EventMetadata, type JobEvent } from '@reelay/contracts';
import { handle, type EventStore } from '@reelay/event-store';
import { decideJob, evolveJob, IllegalTransitionError, jobDecider, type JobCommand, type JobState } from '@reelay/job-domain';
import type { BlobStorage } from '@reelay/storage';
import { checkReferenceImage, validatedImage, type ImageRules } from './check-reference-image';
import { fitToModel, type FitImage, type ImageFitDeps } from './fit-reference-image';
import { moderationViolation } from './moderation';

export interface ValidateJobDeps {
  store: EventStore;
  storage: BlobStorage;
  blockedTerms: string[];
  imageRules: ImageRules;
  /** The model's own limits on a reference image (its providers'), and how to fit an image to them. */
  catalog: ImageFitDeps['catalog'];
  fitImage: FitImage;
  metrics?: ImageFitDeps['metrics'];
  now: () => Date;
}

type Verdict = (now: Date) => JobCommand;

/** Checks that need no I/O: the moderation rules. */
function localVerdict(deps: ValidateJobDeps, job: JobState): Verdict | null {
  const blocked = moderationViolation(deps.blockedTerms, [job.prompt, job.negativePrompt]);
  if (blocked) return (now) => ({ type: 'Fail', errorCode: 'moderation_rejected', detail: `prompt matched moderation rule "${blocked}"`, now });
  if (!job.referenceImage) return (now) => ({ type: 'CompleteValidation', referenceImage: null, now });
  return null;
}

/** Decides several commands in a row on one state, as one append. */
function decideAll(commands: JobCommand[], state: JobState): JobEvent[] {
  const events: JobEvent[] = [];
  for (const command of commands) {
    const next = decideJob(command, state);
    events.push(...next);
    state = next.reduce(evolveJob, state);
  }
  return events;
}

/**
 * queued → validating → validated, or failed with the reason. Runs on JobSubmitted. When the
 * verdict needs no I/O (no reference image), `validating` and the verdict are appended together;
 * a reference image is fetched only after `validating` is recorded, so users see the step.
 * A redelivery finds the work done (the decider returns no events); a job canceled meanwhile is left alone.
 */
export async function validateJob(deps: ValidateJobDeps, jobId: string, metadata: EventMetadata, atLeastVersion?: number): Promise<void> {
  const stream = jobStreamId(jobId);
  const run = (decide: (state: JobState) => JobEvent[]) => handle(deps.store, stream, jobDecider, decide, { metadata, atLeastVersion });
  try {
    const started = await run((state) => {
      const start: JobCommand = { type: 'StartValidation', now: deps.now() };
      const pending = state.exists && !state.validated && (state.status === 'queued' || state.status === 'validating');
      const verdict = pending ? localVerdict(deps, state) : null;
      return decideAll(verdict ? [start, verdict(deps.now())] : [start], state);
    });
    const job = started.state;
    if (job.status !== 'validating' || job.validated || !job.referenceImage) return;

    const read = await checkReferenceImage(job.referenceImage, job.userId, deps.storage, deps.imageRules);
    const check = await fitToModel(read, job, { ...deps, maxBytes: deps.imageRules.maxBytes });
    // Decided on the state as it is now: a concurrent validation (a redelivery) may have validated
    // the job meanwhile, and dispatch may be submitting it; this verdict then changes nothing.
    await run((state) =>
      state.validated
        ? []
        : decideJob(
        check.ok
          ? { type: 'CompleteValidation', referenceImage: validatedImage(check.image), now: deps.now() }
          : { type: 'Fail', errorCode: check.errorCode, message: check.message, detail: check.detail, now: deps.now() },
          state,
        ),
    );
  } catch (err) {
    if (err instanceof IllegalTransitionError) return;
    throw err;
  }
}
