import type { RecordedEvent } from '@reelay/contracts';
import { toHistory } from './history-entry';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
let version = 0;
const recorded = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  eventId: '00000000-0000-4000-8000-00000000000' + (++version % 10),
  type,
  schemaVersion: 1,
  streamId: 'job-job_01JAAAAAAAAAAAAAAAAAAAAAAA',
  streamVersion: version,
  globalPosition: String(version),
  transactionId: String(version),
  data,
  metadata: {},
  recordedAt: at(version),
});

describe('toHistory', () => {
  it('gives each event its sequence, status and user-facing message, and never internal fields', () => {
    version = 0;
    const events = [
      recorded('JobSubmitted', {
        jobId: 'job_01JAAAAAAAAAAAAAAAAAAAAAAA', userId: 'alice', model: 'm', provider: 'p', prompt: 'fox', negativePrompt: null,
        aspectRatio: '16:9', durationSeconds: 5, resolution: null, seed: null, referenceImage: null, webhookUrl: null,
        metadata: {}, creditsEstimated: 10, requestHash: 'secret-hash', at: at(1),
      }),
      recorded('JobValidationStarted', { at: at(2) }),
      recorded('JobValidated', { at: at(3), referenceImage: null }),
      recorded('JobSubmissionIntended', { provider: 'p', attempt: 1, submissionKey: 'sk-internal', at: at(4) }),
      recorded('JobProviderAccepted', { provider: 'p', providerTaskId: 'task-internal', at: at(5) }),
      recorded('JobFailed', { errorCode: 'unknown_provider_error', message: null, detail: 'HTTP 500 from provider: stack...', at: at(6) }),
    ];
    const history = toHistory(events);
    expect(history.map((h) => [h.sequence, h.type, h.status])).toEqual([
      [1, 'JobSubmitted', 'queued'],
      [2, 'JobValidationStarted', 'validating'],
      [3, 'JobValidated', 'validating'],
      [4, 'JobSubmissionIntended', 'validating'],
      [5, 'JobProviderAccepted', 'running'],
      [6, 'JobFailed', 'failed'],
    ]);
    expect(history[0]).toMatchObject({ at: at(1), message: 'Your video is waiting to start.', errorCode: null });
    expect(history[5]).toMatchObject({ errorCode: 'unknown_provider_error', message: 'Something went wrong while generating your video. Please try again.' });
    const text = JSON.stringify(history);
    for (const secret of ['secret-hash', 'sk-internal', 'task-internal', 'HTTP 500', 'alice', 'detail']) expect(text).not.toContain(secret);
  });
});
