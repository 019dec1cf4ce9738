import { jobStreamId, type JobOutput, type RecordedEvent } from '@reelay/contracts';
import { randomUUID } from 'node:crypto';
import type { EventStore } from '@reelay/event-store';
import { newJobId } from '@reelay/job-domain';

const at = () => new Date().toISOString();
const output: JobOutput = { url: '/v1/jobs/x/content', contentType: 'video/mp4', bytes: 1000, durationSeconds: 5, width: 1280, height: 720, sha256: 'abc' };

/** Job events as the other services write them, for building job streams in tests. */
export const jobEvents = {
  submitted: (jobId: string, userId: string, webhookUrl: string | null) => ({
    type: 'JobSubmitted',
    data: {
      jobId, userId, model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a red fox running through snow', negativePrompt: null,
      aspectRatio: '16:9', durationSeconds: 5, resolution: '720p', seed: 42, referenceImage: null, webhookUrl, metadata: {},
      creditsEstimated: 25, requestHash: 'h', at: at(),
    },
  }),
  validating: () => ({ type: 'JobValidationStarted', data: { at: at() } }),
  validated: () => ({ type: 'JobValidated', data: { at: at(), referenceImage: null } }),
  intended: () => ({ type: 'JobSubmissionIntended', data: { provider: 'seedance', attempt: 1, submissionKey: 'k', at: at() } }),
  accepted: () => ({ type: 'JobProviderAccepted', data: { provider: 'seedance', providerTaskId: 'task-1', at: at() } }),
  progressed: (progress: number) => ({ type: 'JobProgressed', data: { progress, at: at() } }),
  delayed: () => ({ type: 'JobDelayed', data: { at: at() } }),
  succeeded: () => ({ type: 'JobSucceeded', data: { output, creditsCharged: 25, at: at() } }),
  outputDeleted: (reason: 'retention' | 'user' = 'retention') => ({ type: 'JobOutputDeleted', data: { reason, at: at() } }),
  canceled: () => ({ type: 'JobCanceled', data: { at: at() } }),
  taskEnded: (reason: 'canceled_at_provider' | 'finished_at_provider' = 'canceled_at_provider') => ({ type: 'JobProviderTaskEnded', data: { reason, at: at() } }),
  failed: () => ({ type: 'JobFailed', data: { errorCode: 'provider_timeout', message: null, detail: 'deadline passed', at: at() } }),
};

/** A job's events in lifecycle order (versions 1..n) and which versions changed the status. */
export const lifecycle = (jobId: string, userId: string, webhookUrl: string | null) => ({
  events: [
    jobEvents.submitted(jobId, userId, webhookUrl), // 1 queued
    jobEvents.validating(), // 2 validating
    jobEvents.validated(),
    jobEvents.intended(),
    jobEvents.accepted(), // 5 running
    jobEvents.progressed(50), // 6 (progress only)
    jobEvents.delayed(), // 7 delayed
    jobEvents.succeeded(), // 8 succeeded
  ],
  statusVersions: [1, 2, 5, 7, 8],
  statuses: ['queued', 'validating', 'running', 'delayed', 'succeeded'],
});

export const newTestJobId = () => newJobId();

export async function appendOne(store: EventStore, jobId: string, event: { type: string; data: unknown }) {
  await store.append(jobStreamId(jobId), 'any', [event]);
}

/** Events as the event store returns them: versions 1..n of the job's stream, recorded when they say. */
export const recordedJobEvents = (jobId: string, events: { type: string; data: { at: string } }[]): RecordedEvent[] =>
  events.map((e, i) => ({
    eventId: randomUUID(), type: e.type, schemaVersion: 1, streamId: jobStreamId(jobId), streamVersion: i + 1, globalPosition: String(i + 1),
    transactionId: String(i + 1), data: e.data, metadata: {}, recordedAt: e.data.at,
  }));
