import { jobStreamId, type RecordedEvent } from '@reelay/contracts';

/**
 * A runway job's stream as the store returns it, for unit specs: submitted, accepted, succeeded
 * with a stored video (the first six events), then its video deleted; `upTo` events of it.
 */
export function videoJobEvents(jobId: string, upTo: 6 | 7): RecordedEvent[] {
  const at = '2026-12-06T00:00:00.000Z';
  const output = { url: `/v1/jobs/${jobId}/content`, contentType: 'video/mp4', bytes: 10, durationSeconds: 5, width: 1280, height: 720, sha256: 'a' };
  const life: [string, unknown][] = [
    ['JobSubmitted', {
      jobId, userId: 'u1', model: 'gen4.5', provider: 'runway', prompt: 'a fox', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5,
      resolution: '720p', seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 25, requestHash: 'h', at,
    }],
    ['JobValidationStarted', { at }],
    ['JobValidated', { at, referenceImage: null }],
    ['JobSubmissionIntended', { provider: 'runway', attempt: 1, submissionKey: 'k', at }],
    ['JobProviderAccepted', { provider: 'runway', providerTaskId: 't1', at }],
    ['JobSucceeded', { output, creditsCharged: 25, at }],
    ['JobOutputDeleted', { reason: 'user', at }],
  ];
  return life.slice(0, upTo).map(([type, data], i) => ({
    eventId: `00000000-0000-4000-8000-00000000000${i}`, type, schemaVersion: 1, streamId: jobStreamId(jobId), streamVersion: i + 1,
    globalPosition: String(i + 1), transactionId: String(i + 1), data, metadata: {}, recordedAt: at,
  }));
}
