import { jobStreamId, type RecordedEvent } from '@reelay/contracts';
import { foldRecordedJob, newJobId } from '@reelay/job-domain';
import { createLogger } from '@reelay/service-kit';
import type { Request, Response } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { serveOutput } from './serve-output';

const at = '2026-12-06T00:00:00.000Z';
const jobId = newJobId();
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
const recorded = (n: number): RecordedEvent[] => life.slice(0, n).map(([type, data], i) => ({
  eventId: `00000000-0000-4000-8000-00000000000${i}`, type, schemaVersion: 1, streamId: jobStreamId(jobId), streamVersion: i + 1,
  globalPosition: String(i + 1), transactionId: String(i + 1), data, metadata: {}, recordedAt: at,
}));

describe('serveOutput', () => {
  it('given a video deleted between reading the job and opening its file, then it answers 410 output_deleted, not 404', async () => {
    const readBefore = foldRecordedJob(recorded(6)).state; // succeeded, not yet deleted
    const deps = {
      storage: { stat: async () => null },
      store: { readStream: async () => recorded(7) },
      logger: createLogger('gateway', 'silent'),
    } as unknown as GatewayDeps;
    await expect(serveOutput(deps, jobId, readBefore, {} as Request, {} as Response)).rejects.toMatchObject({ code: 'output_deleted', status: 410 });
  });

  it('given a succeeded job whose file is missing and no deletion, then it answers 404 as before', async () => {
    const deps = {
      storage: { stat: async () => null },
      store: { readStream: async () => recorded(6) },
      logger: createLogger('gateway', 'silent'),
    } as unknown as GatewayDeps;
    await expect(serveOutput(deps, jobId, foldRecordedJob(recorded(6)).state, {} as Request, {} as Response)).rejects.toMatchObject({ code: 'not_found' });
  });
});
