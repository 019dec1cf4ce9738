import { randomBytes } from 'node:crypto';
import { sniffImage } from '@reelay/media';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { SimContext, SubmitRejection } from '../core/sim-context';
import { delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { stripScenarioTags } from '../core/scenario';
import type { SimTask } from '../core/sim-task';
import { fixtureVideo } from '../core/fixture-video';

const PROVIDER = 'veo';
const PREFIX = '/veo/v1beta';
const ASPECT = new Set(['16:9', '9:16']);
const RESOLUTIONS = new Set(['720p', '1080p', '4k']);
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);
const PERSON_GENERATION = new Set(['dont_allow', 'allow_adult', 'allow_all']);
// Generated files are kept for a limited time (docs said 2 days; UNSURE).
const FILE_RETENTION_MS = 2 * 24 * 3600_000;
const STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};
/** `fail_code` may name a gRPC status; numbers pass through. */
const GRPC_BY_NAME: Record<string, number> = {
  CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9, INTERNAL: 13, UNAVAILABLE: 14,
};

/**
 * Google Veo on the Gemini API (providers.md §5, §11): `models/{model}:predictLongRunning`,
 * operations polled by their full name, Files API downloads, google.rpc.Status errors.
 */
export const veoSim: SimProvider = {
  name: PROVIDER,
  prefix: PREFIX,
  register(router: SimRouter, ctx: SimContext) {
    router.post(`${PREFIX}/models/:model:predictLongRunning`, async (req) => {
      if (ctx.options.requireAuth && !apiKey(req)) return unauthenticated();
      const body = req.body.fields;
      const instance = (Array.isArray(body.instances) ? body.instances[0] : undefined) as Record<string, unknown> | undefined;
      const parameters = (body.parameters ?? {}) as Record<string, unknown>;
      const rawPrompt = typeof instance?.prompt === 'string' ? instance.prompt : '';
      const scenario = scenarioOf(req, rawPrompt);
      await delay(scenario.slow);
      const model = req.params.model;
      const metadata = body.webhookConfig ? { webhookConfig: body.webhookConfig } : {};
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt: rawPrompt, metadata });
      if (req.body.invalidJson) return reject(googleError(400, 'Invalid JSON payload received.'));
      if (!instance || !rawPrompt) return reject(googleError(400, '* GenerateVideoRequest.instances[0].prompt: prompt is required'));
      const invalid = validateParameters(parameters, model) ?? validateImage(instance.image);
      if (invalid) return reject(googleError(400, invalid));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? rawPrompt);
      if (gate) return reject(rejection(gate, model));

      const id = randomBytes(8).toString('hex');
      const task = ctx.createTask(PROVIDER, {
        id: `models/${model}/operations/${id}`,
        model,
        prompt: stripScenarioTags(rawPrompt),
        scenario,
        submissionKey: submissionKeyOf(req),
        request: { ...parameters, hasImage: Boolean(instance.image), ...(instance.image ? { imageMimeType: (instance.image as { mimeType: string }).mimeType } : {}) },
      });
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata, model, prompt: rawPrompt, outcome: 'accepted', httpStatus: 200 });
      return { status: 200, body: { name: task.id } };
    });

    router.get(`${PREFIX}/models/:model/operations/:id`, async (req) => {
      if (ctx.options.requireAuth && !apiKey(req)) return unauthenticated();
      const task = ctx.getTask(PROVIDER, `models/${req.params.model}/operations/${req.params.id}`);
      if (!task) return googleError(404, `Operation models/${req.params.model}/operations/${req.params.id} not found.`);
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? exhausted(gate.retryAfterSeconds) : googleError(gate.status, 'Internal error encountered.');
      ctx.observe(task, true);
      return { status: 200, body: renderOperation(ctx, task) };
    });

    // Files API download (`files/{id}:download?alt=media`), with the same key as the API.
    router.get(`${PREFIX}/files/:file:download`, async (req) => {
      if (ctx.options.requireAuth && !apiKey(req)) return unauthenticated();
      const task = ctx.taskByOutputToken(req.params.file);
      const expiresAt = task ? (task.completedAtMs ?? 0) + (task.scenario.expire_output ?? FILE_RETENTION_MS) : 0;
      if (!task || task.phase !== 'succeeded' || Date.now() >= expiresAt) return googleError(404, `File files/${req.params.file} not found.`);
      if (req.query.get('alt') !== 'media') return { status: 200, body: { name: `files/${req.params.file}`, mimeType: 'video/mp4', state: 'ACTIVE' } };
      return { status: 200, headers: { 'content-type': 'video/mp4' }, body: await fixtureVideo() };
    });
  },
};

function renderOperation(ctx: SimContext, task: SimTask): Record<string, unknown> {
  const base: Record<string, unknown> = { name: task.id };
  if (task.phase === 'queued' || task.phase === 'throttled' || task.phase === 'running') return { ...base, done: false };
  if (task.phase === 'canceled') return { ...base, done: true, error: { code: 1, message: 'Operation cancelled.', details: [] } };
  const response = (generateVideoResponse: Record<string, unknown>) => ({
    ...base,
    done: true,
    response: { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse', generateVideoResponse },
  });
  if (task.phase === 'failed') {
    if (task.failure?.moderation) {
      return response({
        raiMediaFilteredCount: 1,
        raiMediaFilteredReasons: ["Unfortunately, we can't create videos from prompts or images that violate our usage guidelines."],
      });
    }
    const code = task.failure?.code;
    const numeric = code === undefined ? 13 : /^\d+$/.test(code) ? Number(code) : (GRPC_BY_NAME[code] ?? 13);
    return { ...base, done: true, error: { code: numeric, message: task.failure?.message ?? 'Video generation failed.', details: [] } };
  }
  if (!task.outputToken) return response({ generatedSamples: [] });
  return response({ generatedSamples: [{ video: { uri: `${ctx.publicUrl}${PREFIX}/files/${task.outputToken}:download?alt=media` } }] });
}

function validateParameters(p: Record<string, unknown>, model: string): string | null {
  if (p.aspectRatio !== undefined && !ASPECT.has(String(p.aspectRatio))) return `Unsupported aspect ratio: ${String(p.aspectRatio)}. Supported: 16:9, 9:16.`;
  if (p.resolution !== undefined && !RESOLUTIONS.has(String(p.resolution))) return `Unsupported resolution: ${String(p.resolution)}.`;
  if (p.durationSeconds !== undefined) {
    const d = Number(p.durationSeconds); // the SDK sends a number; a numeric string is accepted too
    if (model.startsWith('veo-2')) {
      if (!Number.isInteger(d) || d < 5 || d > 8) return `Unsupported durationSeconds: ${String(p.durationSeconds)}. Veo 2 takes 5 to 8.`;
    } else if (![4, 6, 8].includes(d)) return `Unsupported durationSeconds: ${String(p.durationSeconds)}. Veo 3 models take 4, 6 or 8.`;
  }
  if (p.sampleCount !== undefined && (Number(p.sampleCount) < 1 || Number(p.sampleCount) > 4)) return 'sampleCount must be between 1 and 4.';
  if (p.personGeneration !== undefined && !PERSON_GENERATION.has(String(p.personGeneration))) return `Unsupported personGeneration: ${String(p.personGeneration)}.`;
  return null;
}

/**
 * The Gemini API's inline image (providers.md §5): `{bytesBase64Encoded, mimeType}` and nothing else
 * (proto JSON refuses an unknown field, such as the SDK's own `imageBytes`), a type Veo takes, and
 * bytes that are an image of that type.
 */
function validateImage(image: unknown): string | null {
  if (image === undefined) return null;
  if (!image || typeof image !== 'object' || Array.isArray(image)) return 'Invalid value at \'instances[0].image\': expected an object.';
  const unknown = Object.keys(image).find((k) => k !== 'bytesBase64Encoded' && k !== 'mimeType');
  if (unknown) return `Invalid JSON payload received. Unknown name "${unknown}" at 'instances[0].image': Cannot find field.`;
  const { bytesBase64Encoded: data, mimeType } = image as Record<string, unknown>;
  if (typeof data !== 'string' || !data) return '* GenerateVideoRequest.instances[0].image.bytesBase64Encoded: image bytes are required';
  if (typeof mimeType !== 'string' || !IMAGE_TYPES.has(mimeType)) return `Unsupported MIME type: ${String(mimeType)}. Supported: image/png, image/jpeg, image/webp.`;
  const sniffed = sniffImage(Buffer.from(data, 'base64'));
  if (!sniffed) return 'Unable to process input image: the bytes are not a supported image.';
  if (sniffed.contentType !== mimeType) return `Unable to process input image: the data is ${sniffed.contentType}, not ${mimeType}.`;
  return null;
}

/** 429 RESOURCE_EXHAUSTED as Google sends it: when to retry is a RetryInfo in details, with no Retry-After header. */
function exhausted(retryAfterSeconds: number): SimReply {
  return googleError(429, 'Resource has been exhausted (e.g. check quota).', {}, [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }]);
}

function rejection(gate: SubmitRejection, model: string): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return exhausted(gate.retryAfterSeconds);
    case 'server':
      return googleError(gate.status, gate.status === 503 ? 'The model is overloaded. Please try again later.' : 'Internal error encountered.');
    case 'moderation':
      return googleError(400, "The prompt could not be submitted. This prompt contains words that violate Gemini API's usage guidelines.");
    case 'reject': {
      if (gate.status === 404) return googleError(404, `models/${model} is no longer available to new users.`);
      return googleError(gate.status, gate.code ? `Rejected by scenario: ${gate.code}` : 'Request contains an invalid argument.', {}, [], gate.code);
    }
  }
}

function googleError(status: number, message: string, headers: Record<string, string> = {}, details: unknown[] = [], statusName?: string): SimReply {
  return {
    status,
    headers,
    body: { error: { code: status, message, status: statusName ?? STATUS_BY_HTTP[status] ?? 'UNKNOWN', details } },
  };
}

function unauthenticated(): SimReply {
  return googleError(403, 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.', {}, [], 'PERMISSION_DENIED');
}

function apiKey(req: SimRequest): string | undefined {
  return req.header('x-goog-api-key') || req.query.get('key') || undefined;
}
