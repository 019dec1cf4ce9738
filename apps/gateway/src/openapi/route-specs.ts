import { AssetContentQuery, JobTokenQuery, ListJobsQuery, OpenAIListVideosQuery, OpenAIVideoContentQuery } from '@reelay/contracts';
import type { z } from 'zod';
import * as ex from './examples';

/** Names of schemas in components.schemas (see openapi-document.ts). */
export type SchemaName =
  | 'Job' | 'JobList' | 'JobHistory' | 'UploadedAsset' | 'ModelList' | 'WebhookSecret' | 'CreditBalance' | 'JobWebhookDeliveries' | 'TestWebhookRequest' | 'WebhookTestResult' | 'HealthLive' | 'HealthReady'
  | 'ApiErrorEnvelope' | 'SubmitJobRequest' | 'RegenerateJobRequest' | 'CancelJobsRequest' | 'CancelJobsResult' | 'RegenerateFailedRequest' | 'RegenerateFailedResult' | 'RotateWebhookSecretRequest' | 'JobToken' | 'JobTokenRequest'
  | 'OpenAIVideo' | 'OpenAIVideoList' | 'OpenAIVideoDeleted' | 'OpenAIErrorEnvelope' | 'OpenAICreateVideoJson' | 'OpenAICreateVideoMultipart' | 'OpenAIRemixVideo';

export interface BodySpec {
  /** A component schema, or a literal JSON Schema for bodies that are not JSON (bytes, text). */
  schema: SchemaName | Record<string, unknown>;
  example?: unknown;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path template, e.g. /v1/jobs/{id}. */
  path: string;
  operationId: string;
  tag: 'Jobs' | 'Assets' | 'Models' | 'Credits' | 'Webhooks' | 'Providers' | 'OpenAI-compatible videos' | 'Operations' | 'Documentation';
  summary: string;
  description?: string;
  /** Bearer API key required. */
  auth: boolean;
  /** A job token (`?token=`) is taken instead of the key. */
  jobToken?: true;
  /** Not a GET, yet a key with the read scope may call it (it changes nothing). */
  readKeyAllowed?: true;
  /** Errors in OpenAI's envelope instead of api.md's. */
  openai?: boolean;
  pathParams?: { name: string; description: string }[];
  query?: z.ZodObject;
  headers?: { name: string; description: string; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, BodySpec> };
  success: { status: number; description: string; content?: Record<string, BodySpec>; headers?: Record<string, string> };
  /** Other success statuses, without a body. */
  alsoSuccess?: { status: number; description: string }[];
  /** Other statuses this route answers with an error envelope. */
  errors: number[];
}

const jobId = { name: 'id', description: 'The job id (job_...)' };
const videoId = { name: 'id', description: 'The video id (the job id)' };
const json = (schema: SchemaName, example?: unknown) => ({ 'application/json': { schema, example } });
const bytes = { type: 'string', contentMediaType: 'video/mp4' };
const imageBodies: Record<string, BodySpec> = Object.fromEntries(['image/png', 'image/jpeg', 'image/webp'].map((t) => [t, { schema: { type: 'string', contentMediaType: t } }]));
const idempotencyKey = { name: 'Idempotency-Key', description: 'The same key and body return the same job; a different body answers 409.', schema: { type: 'string', minLength: 1, maxLength: 255 } };
const rangeHeader = { name: 'Range', description: 'A single byte range, e.g. bytes=0-1023 (206 Partial Content)', schema: { type: 'string' } };
const contentNoneMatch = { name: 'If-None-Match', description: 'The ETag of a copy you hold (304 Not Modified when it is still the video)', schema: { type: 'string' } };

/** Every route the gateway serves (openapi.spec.ts fails when the router has one this list lacks). */
export const ROUTES: RouteSpec[] = [
  {
    method: 'post', path: '/v1/jobs', operationId: 'submitJob', tag: 'Jobs', summary: 'Submit a video job', auth: true,
    headers: [idempotencyKey],
    requestBody: { required: true, content: json('SubmitJobRequest', ex.exampleSubmit) },
    success: { status: 202, description: 'The job, accepted', content: json('Job', ex.exampleQueuedJob), headers: { ETag: 'The job version', Location: 'The job URL' } },
    errors: [400, 401, 402, 409, 413, 422, 429, 503],
  },
  {
    method: 'get', path: '/v1/jobs', operationId: 'listJobs', tag: 'Jobs', summary: "The user's jobs, newest first", auth: true,
    description: 'From a read model: a job may appear a moment after it was submitted.',
    query: ListJobsQuery,
    success: { status: 200, description: 'A page of jobs', content: json('JobList', { data: [ex.exampleJob], nextCursor: null }) },
    errors: [400, 401, 429],
  },
  {
    method: 'get', path: '/v1/jobs/{id}', operationId: 'getJob', tag: 'Jobs', summary: 'A job', auth: true, pathParams: [jobId],
    headers: [
      { name: 'If-None-Match', description: 'The ETag of a previous answer (304 when unchanged)', schema: { type: 'string' } },
      { name: 'Prefer', description: '`wait=N` (RFC 7240): answer an unfinished job once it has finished, or after N seconds (at most 60) as it is then; counts as one of your open streams while it waits', schema: { type: 'string', example: 'wait=30' } },
    ],
    success: { status: 200, description: 'The job (also 304 Not Modified for a matching If-None-Match)', content: json('Job', ex.exampleJob), headers: { ETag: 'The job version', 'Preference-Applied': 'wait=N when the answer waited as Prefer asked' } },
    errors: [401, 404, 429],
  },
  {
    method: 'post', path: '/v1/jobs/{id}/cancel', operationId: 'cancelJob', tag: 'Jobs', summary: 'Cancel a job', auth: true, pathParams: [jobId],
    success: { status: 202, description: 'The job, cancel recorded', content: json('Job', ex.exampleCanceledJob), headers: { ETag: 'The job version' } },
    errors: [401, 404, 409, 429, 503],
  },
  {
    method: 'post', path: '/v1/jobs/cancel', operationId: 'cancelJobs', tag: 'Jobs', summary: 'Cancel your unfinished jobs with the given metadata', auth: true,
    description:
      `Each matching job is canceled as its own cancel would cancel it; \`notCanceled\` gives the error that cancel answered (a job that finished meanwhile: 409). ` +
      `At most 100 jobs per call, oldest first: call again while \`hasMore\` is true. Jobs are found in a read model, so one submitted a moment ago may be missed.`,
    requestBody: { required: true, content: json('CancelJobsRequest', { metadata: { orderId: 'A1' } }) },
    success: { status: 200, description: 'What became of each matching job', content: json('CancelJobsResult', ex.exampleCancelBatch) },
    errors: [400, 401, 403, 413, 429, 503],
  },
  {
    method: 'post', path: '/v1/jobs/regenerate-failed', operationId: 'regenerateFailedJobs', tag: 'Jobs', summary: 'Generate again your failed jobs with the given metadata', auth: true,
    description:
      `Each matching failed job that no job repeats yet (no job names it as \`parentJobId\`) and that was created before the sweep began is generated again as its own regenerate would (no body: the same settings), checked and charged like a submit; ` +
      `\`notCreated\` gives the error that regenerate answered (402 when your credits ran out, 400 for a model no longer offered). Only failures a new try may get past (\`retryable\`) unless \`retryableOnly\` is false. ` +
      `At most one new job per failed job, whatever calls ask: a call sent again makes nothing new until new jobs failed too, and then takes those, not their parents. ` +
      `At most 100 jobs per call, oldest first: call again with \`nextCursor\` while \`hasMore\` is true. Jobs are found in a read model, so one that failed a moment ago may be missed.`,
    requestBody: { required: true, content: json('RegenerateFailedRequest', { metadata: { orderId: 'A1' } }) },
    success: { status: 200, description: 'What became of each matching failed job', content: json('RegenerateFailedResult', ex.exampleRegenerateBatch) },
    errors: [400, 401, 403, 413, 429, 503],
  },
  {
    method: 'post', path: '/v1/jobs/{id}/regenerate', operationId: 'regenerateJob', tag: 'Jobs', summary: 'Generate a job again with the same settings', auth: true, pathParams: [jobId],
    description:
      'A new job with the settings of one of your jobs, finished or not: charged like a submit, its `parentJobId` naming the job it repeats. ' +
      'No body repeats the job as it was; a body changes the prompt, model (another provider), duration, aspect ratio, resolution, seed, reference image or deadline (`cancelAfterSeconds`, counted from the new job\'s submit) ' +
      '(`null` drops the resolution, the seed, the image or the deadline).',
    headers: [{ ...idempotencyKey, description: 'The same key for the same job and body returns the same new job; for another job or body it answers 409.' }],
    requestBody: { required: false, content: json('RegenerateJobRequest', { model: 'gen4.5', durationSeconds: 5, seed: null }) },
    success: {
      status: 202, description: 'The new job, accepted',
      content: json('Job', ex.exampleRegeneratedJob),
      headers: { ETag: 'The job version', Location: 'The new job URL' },
    },
    errors: [400, 401, 402, 404, 409, 413, 422, 429, 503],
  },
  {
    method: 'post', path: '/v1/jobs/{id}/token', operationId: 'createJobToken', tag: 'Jobs', summary: "A token that reads one job's stream and video without an API key", auth: true, readKeyAllowed: true, pathParams: [jobId],
    description:
      'For your end users\' browsers, which must not hold your key: an EventSource on `streamUrl` and a `<video src>` on `contentUrl` work with it until `expiresAt` ' +
      '(15 minutes unless `expiresInSeconds` says otherwise, 60–86,400). Nothing is stored: a token stays valid until it expires, also if the key is revoked. ' +
      'Signed with JOB_TOKEN_SECRET (or a key derived from WEBHOOK_MASTER_SECRET); 503 when neither is set.',
    requestBody: { required: false, content: json('JobTokenRequest', { expiresInSeconds: 600 }) },
    success: {
      status: 201, description: 'The token and the URLs that take it',
      content: json('JobToken', { token: 'dXNlci0xCjE3NjQ5NzM4MDA.Yk9Hc2w0aXJ2bTR0a2JmT2g1S3lPZ0h0dE1jRVhvV1pxR2g2VmU0Q3JfNA', expiresAt: '2026-11-28T10:15:00.000Z', streamUrl: `/v1/jobs/${ex.exampleJob.id}/stream?token=...`, contentUrl: `/v1/jobs/${ex.exampleJob.id}/content?token=...`, posterUrl: `/v1/jobs/${ex.exampleJob.id}/poster?token=...` }),
    },
    errors: [400, 401, 404, 413, 429, 503],
  },
  {
    method: 'get', path: '/v1/jobs/{id}/events', operationId: 'getJobEvents', tag: 'Jobs', summary: "The job's history from the event log", auth: true, pathParams: [jobId],
    success: { status: 200, description: 'One entry per event', content: json('JobHistory', ex.exampleHistory) },
    errors: [401, 404, 429],
  },
  {
    method: 'get', path: '/v1/jobs/{id}/webhooks', operationId: 'getJobWebhooks', tag: 'Webhooks', summary: "What the job's webhookUrl was sent, with every try", auth: true, pathParams: [jobId],
    description: 'One entry per status change (or output deletion) told to the webhook, oldest first: its state (`pending` while it is retried, `delivered`, `failed` once given up), the last answer, when it is tried next, and every attempt with its outcome. Empty for a job without a webhookUrl.',
    success: { status: 200, description: 'The deliveries', content: json('JobWebhookDeliveries', ex.exampleWebhookDeliveries) },
    errors: [401, 404, 429, 503],
  },
  {
    method: 'get', path: '/v1/jobs/{id}/stream', operationId: 'streamJob', tag: 'Jobs', summary: 'Live status as Server-Sent Events', auth: true, pathParams: [jobId],
    description: '`id:` = stream version, `event: job`, `data:` = the job (schema Job). Resumes after `Last-Event-ID`; ends after a terminal status. Also without a key, with `?token=` from POST /v1/jobs/{id}/token (any origin may read it: for an EventSource).',
    query: JobTokenQuery,
    headers: [{ name: 'Last-Event-ID', description: 'Resume after this version', schema: { type: 'string' } }],
    success: {
      status: 200, description: 'An event stream',
      content: { 'text/event-stream': { schema: { type: 'string' }, example: `id: 5\nevent: job\ndata: ${JSON.stringify(ex.exampleJob)}\n\n` } },
    },
    alsoSuccess: [{ status: 204, description: 'Resumed (`Last-Event-ID`) after the finished job\'s last version: nothing more will come' }],
    jobToken: true,
    errors: [401, 404, 429],
  },
  {
    method: 'get', path: '/v1/jobs/{id}/content', operationId: 'getJobContent', tag: 'Jobs', summary: 'The video bytes', auth: true, pathParams: [jobId],
    headers: [rangeHeader, contentNoneMatch],
    query: JobTokenQuery,
    jobToken: true,
    description: 'Once the video was deleted (its `output.deletedAt` is set) this answers 410 `output_deleted`. Also without a key, with `?token=` from POST /v1/jobs/{id}/token (for a `<video src>`).',
    success: { status: 200, description: 'The MP4 (206 for a Range request; 304 Not Modified for a matching If-None-Match)', content: { 'video/mp4': { schema: bytes, example: '(MP4 bytes)' } }, headers: { ETag: "The video's SHA-256" } },
    errors: [401, 404, 410, 416, 429],
  },
  {
    method: 'get', path: '/v1/jobs/{id}/poster', operationId: 'getJobPoster', tag: 'Jobs', summary: 'A still of the video', auth: true, pathParams: [jobId],
    headers: [contentNoneMatch],
    query: JobTokenQuery,
    jobToken: true,
    description: 'A WebP frame from one second in (halfway through a shorter video), its longer side at most 640 pixels; made from the stored video on first request, so the first answer takes a moment. 404 before the job succeeded, 410 `output_deleted` once the video was deleted, 503 with Retry-After while the server is making many at once. Also without a key, with `?token=` from POST /v1/jobs/{id}/token (for a `<video poster>` or `<img src>`).',
    success: { status: 200, description: 'The image (304 Not Modified for a matching If-None-Match)', content: { 'image/webp': { schema: bytes, example: '(WebP bytes)' } }, headers: { ETag: "Derived from the video's SHA-256" } },
    errors: [401, 404, 410, 429, 503],
  },
  {
    method: 'delete', path: '/v1/jobs/{id}/output', operationId: 'deleteJobOutput', tag: 'Jobs', summary: "Delete a succeeded job's video", auth: true, pathParams: [jobId],
    description: 'The video file is deleted; the job stays `succeeded`, with `output.deletedAt` set, and its content answers 410. Asking again answers the same job. Only a succeeded job has a video (409 otherwise).',
    success: {
      status: 200, description: 'The job, deletion recorded',
      content: json('Job', { ...ex.exampleSucceededJob, message: 'This video was deleted. Generate it again to get a new one.', output: { ...ex.exampleSucceededJob.output!, deletedAt: '2026-11-29T09:00:00.000Z' }, version: 9 }),
      headers: { ETag: 'The job version' },
    },
    errors: [401, 404, 409, 429, 503],
  },
  {
    method: 'post', path: '/v1/assets', operationId: 'uploadAsset', tag: 'Assets', summary: 'Upload a reference image', auth: true,
    description: 'The raw image as the body with its Content-Type; at most ASSET_MAX_BYTES (10 MB by default).',
    requestBody: { required: true, content: imageBodies },
    success: { status: 201, description: 'The stored asset', content: json('UploadedAsset', ex.exampleAsset) },
    errors: [400, 401, 413, 415, 429],
  },
  {
    method: 'delete', path: '/v1/assets/{id}', operationId: 'deleteAsset', tag: 'Assets', summary: 'Delete an uploaded image', auth: true,
    description: 'Removes one of your uploads at once, unless an unfinished job of yours names it (409, naming the job; a job submitted a moment ago counts). 503 with Retry-After while the job list is being rebuilt or trails the log by more than 20,000 events (it cannot tell then which jobs are unfinished). A job made from it later fails with `asset_fetch_failed`. With ASSET_RETENTION_DAYS set, uploads not uploaded again for that long are removed too, unless an unfinished job names them.',
    pathParams: [{ name: 'id', description: 'The asset id (asset_...)' }],
    success: { status: 204, description: 'Deleted (no body)' },
    errors: [401, 404, 409, 429, 503],
  },
  {
    method: 'get', path: '/v1/assets/{id}/content', operationId: 'getAssetContent', tag: 'Assets', summary: 'An uploaded image, by a signed link', auth: false,
    description: 'For providers: dispatch hands them a link signed with ASSET_URL_SECRET (valid 24 hours) instead of inlining the image. A wrong or expired signature answers 404.',
    pathParams: [{ name: 'id', description: 'The asset id (asset_...)' }],
    query: AssetContentQuery,
    success: { status: 200, description: 'The image', content: Object.fromEntries(Object.entries(imageBodies).map(([t, b]) => [t, { ...b, example: '(image bytes)' }])) },
    errors: [400, 404, 429],
  },
  {
    method: 'get', path: '/v1/models', operationId: 'listModels', tag: 'Models', summary: 'The model catalog', auth: true,
    success: { status: 200, description: 'The models offered here', content: json('ModelList', ex.exampleModels) },
    errors: [401, 429],
  },
  {
    method: 'get', path: '/v1/credits', operationId: 'getCreditBalance', tag: 'Credits', summary: "The user's credit balance", auth: true,
    description: 'A submit holds its estimated credits (402 insufficient_credits when `available` is short); a succeeded job is charged, a failed or canceled one gives its hold back.',
    success: { status: 200, description: 'The balance, as of this request', content: json('CreditBalance', ex.exampleCreditBalance) },
    errors: [401, 429],
  },
  {
    method: 'get', path: '/v1/webhooks/secret', operationId: 'getWebhookSecret', tag: 'Webhooks', summary: "The user's webhook signing secret", auth: true,
    description: 'Not with a read-only key (403): whoever holds the secret can sign webhooks your receivers accept.',
    success: { status: 200, description: 'The Standard Webhooks secret your webhooks are signed with now', content: json('WebhookSecret', ex.exampleWebhookSecret) },
    errors: [401, 403, 429, 503],
  },
  {
    method: 'post', path: '/v1/webhooks/secret/rotate', operationId: 'rotateWebhookSecret', tag: 'Webhooks', summary: 'Replace your webhook signing secret', auth: true,
    description:
      'A new secret from now on. Webhooks are signed under the old secret too (one more `v1,` signature) for `keepPreviousForSeconds` (default a day, at most a week; 0 ends it at once, after a leak), ' +
      'so receivers can switch without dropping any. Rotating again within that time keeps the older secrets signing too, until the new window ends: at most three of your secrets sign a webhook, ' +
      'so the oldest drops out at a third rotation within the window; 0 ends them all.',
    requestBody: { required: false, content: json('RotateWebhookSecretRequest', { keepPreviousForSeconds: 3600 }) },
    success: { status: 200, description: 'The new secret', content: json('WebhookSecret', ex.exampleRotatedWebhookSecret) },
    errors: [400, 401, 403, 413, 429, 503],
  },
  {
    method: 'post', path: '/v1/webhooks/test', operationId: 'testWebhook', tag: 'Webhooks', summary: 'Send a signed test event to a URL now', auth: true,
    description: 'One `video.job.test` event, signed and sent as your webhooks are (same headers, address checks, no redirects), answered with what the receiver did. Nothing is recorded or retried.',
    requestBody: { required: true, content: { 'application/json': { schema: 'TestWebhookRequest', example: { url: 'https://example.com/hooks/video' } } } },
    success: { status: 200, description: 'What the receiver did', content: json('WebhookTestResult', ex.exampleWebhookTest) },
    errors: [400, 401, 413, 429, 503],
  },
  {
    method: 'post', path: '/v1/providers/{provider}/callback', operationId: 'providerCallback', tag: 'Providers', summary: 'Inbound provider callback', auth: false,
    description:
      'Forwarded untouched to polling, which verifies signatures where the provider signs and re-checks the job with the provider. ' +
      'A provider name other than 1–40 lowercase letters, digits and `-` answers 404; a body over CALLBACK_BODY_LIMIT_BYTES, or over what fits in one NATS message, 413; ' +
      '503 with Retry-After: 1 while CALLBACK_MAX_CONCURRENT callbacks are being received by the gateway process.',
    pathParams: [{ name: 'provider', description: 'The provider name (`[a-z0-9-]{1,40}`), e.g. seedance' }],
    requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' }, example: { id: 'cgt-2025', status: 'succeeded' } } } },
    success: { status: 200, description: 'Taken (no body); 200 rather than 204, since Luma retries any other answer' },
    errors: [400, 404, 413, 429, 503],
  },
  {
    method: 'post', path: '/v1/videos', operationId: 'createVideo', tag: 'OpenAI-compatible videos', summary: 'Create a video (OpenAI Videos API)', auth: true, openai: true,
    description:
      '`size` maps to an aspect ratio and resolution; `seconds` to the duration. `input_reference` (a file, `image_url` or `file_id` = an asset id) becomes the reference image.',
    headers: [idempotencyKey],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: 'OpenAICreateVideoJson', example: ex.exampleCreateVideo },
        'multipart/form-data': { schema: 'OpenAICreateVideoMultipart', example: ex.exampleCreateVideo },
      },
    },
    success: { status: 200, description: 'The video, queued', content: json('OpenAIVideo', { ...ex.exampleVideo, status: 'queued', progress: 0 }) },
    errors: [400, 401, 402, 409, 413, 415, 429, 503],
  },
  {
    method: 'get', path: '/v1/videos', operationId: 'listVideos', tag: 'OpenAI-compatible videos', summary: "The user's videos (OpenAI list)", auth: true, openai: true,
    query: OpenAIListVideosQuery,
    success: { status: 200, description: 'A page of videos', content: json('OpenAIVideoList', { object: 'list', data: [ex.exampleVideo], first_id: ex.exampleVideo.id, last_id: ex.exampleVideo.id, has_more: false }) },
    errors: [400, 401, 429],
  },
  {
    method: 'get', path: '/v1/videos/{id}', operationId: 'retrieveVideo', tag: 'OpenAI-compatible videos', summary: 'A video', auth: true, openai: true, pathParams: [videoId],
    success: { status: 200, description: 'The video', content: json('OpenAIVideo', ex.exampleVideo) },
    errors: [401, 404, 429],
  },
  {
    method: 'delete', path: '/v1/videos/{id}', operationId: 'deleteVideo', tag: 'OpenAI-compatible videos', summary: 'Delete a video, or cancel an unfinished one', auth: true, openai: true, pathParams: [videoId],
    description: 'A completed video has its file deleted and an unfinished one is canceled (`deleted: true`); the job and its history stay. A failed or canceled video has nothing to delete (`deleted: false`).',
    success: { status: 200, description: 'The outcome', content: json('OpenAIVideoDeleted', { id: ex.exampleVideo.id, object: 'video.deleted', deleted: true }) },
    errors: [401, 404, 429, 503],
  },
  {
    method: 'post', path: '/v1/videos/{id}/remix', operationId: 'remixVideo', tag: 'OpenAI-compatible videos', summary: 'A completed video again with a new prompt', auth: true, openai: true, pathParams: [videoId],
    description: 'A new video with the settings of a completed one and a new prompt (reelay: a regenerate), charged like a create; `remixed_from_video_id` names the source. A video that is not completed answers 409.',
    headers: [{ ...idempotencyKey, description: 'The same key and prompt for the same video return the same new video; another answers 409.' }],
    requestBody: { required: true, content: json('OpenAIRemixVideo', { prompt: 'the same fox, now at dusk' }) },
    success: { status: 200, description: 'The new video, queued', content: json('OpenAIVideo', { ...ex.exampleVideo, id: 'job_01JD5ZC2H8V4T6R3P1N9K7M5QW', status: 'queued', progress: 0, completed_at: null, prompt: 'the same fox, now at dusk', remixed_from_video_id: ex.exampleVideo.id }) },
    errors: [400, 401, 402, 404, 409, 413, 429, 503],
  },
  {
    method: 'get', path: '/v1/videos/{id}/content', operationId: 'downloadVideoContent', tag: 'OpenAI-compatible videos', summary: 'The video bytes', auth: true, openai: true, pathParams: [videoId],
    query: OpenAIVideoContentQuery,
    headers: [rangeHeader, contentNoneMatch],
    description: '`variant=thumbnail` answers a WebP still of the video instead (as GET /v1/jobs/{id}/poster); `spritesheet` is not offered (404).',
    success: {
      status: 200, description: 'The MP4 (206 for a Range request; 304 Not Modified for a matching If-None-Match), or the WebP still for variant=thumbnail',
      content: { 'video/mp4': { schema: bytes, example: '(MP4 bytes)' }, 'image/webp': { schema: bytes, example: '(WebP bytes)' } },
      headers: { ETag: "The video's SHA-256 (the still's is derived from it)" },
    },
    errors: [400, 401, 404, 410, 416, 429, 503],
  },
  {
    method: 'get', path: '/health/live', operationId: 'healthLive', tag: 'Operations', summary: 'Liveness', auth: false,
    success: { status: 200, description: 'The process runs', content: json('HealthLive', { status: 'ok' }) },
    errors: [],
  },
  {
    method: 'get', path: '/health/ready', operationId: 'healthReady', tag: 'Operations', summary: 'Readiness (PostgreSQL and NATS)', auth: false,
    success: { status: 200, description: 'Ready (503 with the same shape when a dependency is down)', content: json('HealthReady', { status: 'ok', checks: { postgres: 'up', nats: 'up' } }) },
    errors: [],
  },
  {
    method: 'get', path: '/metrics', operationId: 'metrics', tag: 'Operations', summary: 'Prometheus metrics', auth: false,
    success: { status: 200, description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' }, example: '# HELP reelay_gateway_up 1\n' } } },
    errors: [],
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'openapi', tag: 'Documentation', summary: 'This document', auth: false,
    success: { status: 200, description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' }, example: { openapi: '3.1.1', info: { title: 'reelay API', version: '1.0.0' }, paths: {} } } } },
    errors: [],
  },
  {
    method: 'get', path: '/docs', operationId: 'docs', tag: 'Documentation', summary: 'This document as a web page', auth: false,
    success: { status: 200, description: 'HTML', content: { 'text/html': { schema: { type: 'string' }, example: '<!doctype html>…' } } },
    errors: [],
  },
  {
    method: 'get', path: '/', operationId: 'webPage', tag: 'Documentation', summary: 'The web page (submit and watch videos)', auth: false,
    success: { status: 200, description: 'HTML', content: { 'text/html': { schema: { type: 'string' }, example: '<!doctype html>…' } } },
    errors: [],
  },
  {
    method: 'get', path: '/web/{file}', operationId: 'webAsset', tag: 'Documentation', summary: "The web page's script and style", auth: false,
    pathParams: [{ name: 'file', description: 'app.js or app.css' }],
    success: { status: 200, description: 'JavaScript or CSS', content: { 'text/javascript': { schema: { type: 'string' }, example: "'use strict';…" }, 'text/css': { schema: { type: 'string' }, example: ':root { … }' } } },
    errors: [404],
  },
];
