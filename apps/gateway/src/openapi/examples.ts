import { derivedJobFields } from '@reelay/job-domain';
import type { CancelJobsResult, RegenerateFailedResult, WebhookSecret, CreditBalance, Job, JobWebhookDeliveries, WebhookTestResult, JobHistoryEntry, ModelList, OpenAIVideo, UploadedAsset } from '@reelay/contracts';

/** Example bodies for the OpenAPI document (openapi.spec.ts checks each against its schema). */

/** A job with the links (and, failed, `retryable`) that its status gives it, as the gateway serves it. */
const served = (job: Job): Job => ({ ...job, ...derivedJobFields(job) });

const JOB_ID = 'job_01JD5Z8Q4W3N7M2K9P6R1T0VXY';

export const exampleJob: Job = served({
  id: JOB_ID,
  object: 'video.job',
  status: 'running',
  message: 'Your video is being generated.',
  errorCode: null,
  model: 'local-preview',
  provider: 'local',
  prompt: 'a red fox running through snow',
  negativePrompt: null,
  aspectRatio: '16:9',
  durationSeconds: 4,
  resolution: '720p',
  seed: null,
  referenceImage: null,
  progress: 40,
  output: null,
  credits: { estimated: 4, charged: null },
  webhookUrl: null,
  metadata: {},
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-11-28T10:00:05.000Z',
  startedAt: '2026-11-28T10:00:02.000Z',
  completedAt: null,
  version: 5,
});

/** The job as its submit answers it: not started, so without `startedAt`. */
const { startedAt: _startedAt, ...unstartedJob } = exampleJob;
export const exampleQueuedJob: Job = served({ ...unstartedJob, status: 'queued', message: 'Your video is waiting to start.', progress: null, version: 1 });

export const exampleCanceledJob: Job = served({ ...exampleJob, status: 'canceled', message: 'This video was canceled.', cancellation: { providerTask: 'stopping' } });

const REGENERATED_ID = 'job_01JD5ZC2H8V4T6R3P1N9K7M5QW';
export const exampleRegeneratedJob: Job = served({
  ...exampleQueuedJob,
  id: REGENERATED_ID,
  parentJobId: JOB_ID,
});

export const exampleCancelBatch: CancelJobsResult = {
  object: 'job_cancel_batch',
  canceled: [JOB_ID, REGENERATED_ID],
  notCanceled: [{ id: 'job_01JD5ZD7K2M9P4R6T8V1X3Z5BC', error: { code: 'invalid_state', message: 'This job is already succeeded and cannot be canceled.' } }],
  hasMore: false,
  nextCursor: null,
};

export const exampleRegenerateBatch: RegenerateFailedResult = {
  object: 'job_regenerate_batch',
  created: [{ parentJobId: JOB_ID, job: exampleRegeneratedJob }],
  notCreated: [{ parentJobId: 'job_01JD5ZD7K2M9P4R6T8V1X3Z5BC', error: { code: 'insufficient_credits', message: 'This video costs 25 credits and your balance is 10.' } }],
  hasMore: false,
  nextCursor: null,
};

export const exampleSucceededJob: Job = served({
  ...exampleJob,
  status: 'succeeded',
  message: 'Your video is ready.',
  progress: 100,
  output: { url: `/v1/jobs/${JOB_ID}/content`, contentType: 'video/mp4', bytes: 183_422, durationSeconds: 4, width: 1280, height: 720, sha256: '9f2c0e8d1b7a4c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e', expiresAt: '2026-12-28T10:00:20.000Z' },
  credits: { estimated: 4, charged: 4 },
  startedAt: '2026-11-28T10:00:02.000Z',
  completedAt: '2026-11-28T10:00:20.000Z',
  updatedAt: '2026-11-28T10:00:20.000Z',
  version: 8,
});

export const exampleSubmit = { model: 'local-preview', prompt: 'a red fox running through snow', aspectRatio: '16:9', durationSeconds: 4, resolution: '720p' };

export const exampleHistory: { data: JobHistoryEntry[] } = {
  data: [
    { sequence: 1, type: 'JobSubmitted', at: '2026-11-28T10:00:00.000Z', status: 'queued', message: 'Your video is waiting to start.', errorCode: null, progress: null, model: 'local-preview' },
    { sequence: 2, type: 'JobValidationStarted', at: '2026-11-28T10:00:00.100Z', status: 'validating', message: 'Checking your request.', errorCode: null, progress: null },
  ],
};

export const exampleAsset: UploadedAsset = { id: 'asset_3kTq9ZrY8vXw2LmN5pQs7HcD', contentType: 'image/png', bytes: 48_213, width: 1280, height: 720 };

export const exampleWebhookDeliveries: JobWebhookDeliveries = {
  object: 'list',
  data: [
    {
      version: 1, type: 'video.job.queued', status: 'delivered', attempts: 2, lastHttpStatus: 200, lastError: null, nextAttemptAt: null,
      deliveredAt: '2026-01-01T12:00:31.000Z', failedAt: null,
      attemptLog: [
        { attempt: 1, at: '2026-01-01T12:00:00.000Z', outcome: 'http_error', httpStatus: 503, error: 'HTTP 503', durationMs: 41 },
        { attempt: 2, at: '2026-01-01T12:00:30.000Z', outcome: 'delivered', httpStatus: 200, error: null, durationMs: 38 },
      ],
    },
    { version: 5, type: 'video.job.running', status: 'pending', attempts: 1, lastHttpStatus: null, lastError: 'timeout', nextAttemptAt: '2026-01-01T12:02:10.000Z', deliveredAt: null, failedAt: null, attemptLog: [{ attempt: 1, at: '2026-01-01T12:01:30.000Z', outcome: 'timeout', httpStatus: null, error: 'timeout', durationMs: 10000 }] },
  ],
};

export const exampleWebhookTest: WebhookTestResult = { object: 'webhook_test', delivered: true, outcome: 'delivered', httpStatus: 200, error: null, durationMs: 84, webhookId: 'msg_test_5f0c2a9e8b7d4c1a9e3f6b2d8a4c7e10_v0' };

export const exampleCreditBalance: CreditBalance = { object: 'credit_balance', available: 415, held: 50, granted: 1000, spent: 535, jobsHolding: 2 };

export const exampleModels: ModelList = {
  data: [{ id: 'local-preview', provider: 'local', durations: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], aspectRatios: ['16:9', '9:16', '1:1'], resolutions: ['480p', '720p'], imageToVideo: false, textToVideo: true, creditsPerSecond: 1 }],
};

export const exampleVideo: OpenAIVideo = {
  id: JOB_ID,
  object: 'video',
  created_at: 1_795_860_000,
  completed_at: null,
  expires_at: null,
  model: 'local-preview',
  progress: 40,
  seconds: '4',
  size: '1280x720',
  status: 'in_progress',
  error: null,
  prompt: 'a red fox running through snow',
  remixed_from_video_id: null,
};

export const exampleCreateVideo = { model: 'local-preview', prompt: 'a red fox running through snow', seconds: '4', size: '1280x720' };

export const exampleWebhookSecret: WebhookSecret = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', generation: 0, rotatedAt: null, previousSecretValidUntil: null };
export const exampleRotatedWebhookSecret: WebhookSecret = {
  secret: 'whsec_Q2x7T0pLr4VdN8sK1bYw3HcJ6mZf9AeU',
  generation: 1,
  rotatedAt: '2026-11-28T10:00:00.000Z',
  previousSecretValidUntil: '2026-11-28T11:00:00.000Z',
};
