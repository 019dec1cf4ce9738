import { randomBytes } from 'node:crypto';
import type { SimReply, SimRouter } from '../core/router';
import { undocumentedRetryAfter, type CheckRejection, type SimContext, type SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { sentImageSize } from '../core/reference-image';
import { statusCallbacks } from '../core/status-callbacks';
import { stripScenarioTags } from '../core/scenario';
import type { SimPhase, SimTask } from '../core/sim-task';

const PROVIDER = 'seedance';
const RATIOS = new Set(['16:9', '4:3', '1:1', '3:4', '9:16', '21:9', 'keep_ratio', 'adaptive']);
const RESOLUTIONS = new Set(['480p', '720p', '1080p', '4k']);
const TYPE_BY_STATUS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 429: 'TooManyRequests', 500: 'InternalServiceError', 503: 'ServiceUnavailable',
};

/** BytePlus ModelArk / Volcengine Ark content-generation tasks (providers.md §1, §11). */
export const seedanceSim: SimProvider = {
  name: PROVIDER,
  prefix: '/seedance/api/v3',
  register(router: SimRouter, ctx: SimContext) {
    const base = `${this.prefix}/contents/generations/tasks`;
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, {
        provider: PROVIDER,
        url: (t) => t.callbackUrl,
        phases: ['queued', 'running', 'succeeded', 'failed'],
        render: (t, phase) => renderTask(ctx, t, phase),
      }),
    );

    router.post(base, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return arkError(401, 'AuthenticationError', 'The API key is missing or invalid.');
      const body = req.body.fields;
      const content = Array.isArray(body.content) ? (body.content as Record<string, unknown>[]) : undefined;
      const textItem = content?.find((c) => c?.type === 'text');
      const rawText = typeof textItem?.text === 'string' ? textItem.text : '';
      const scenario = scenarioOf(req, rawText);
      await delay(scenario.slow);
      const key = submissionKeyOf(req) ?? rawText;
      const model = typeof body.model === 'string' ? body.model : '';
      const metadata = pick(body, ['safety_identifier', 'callback_url']);
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt: rawText, metadata });
      if (req.body.invalidJson) return reject(arkError(400, 'InvalidParameter', 'The request body is not valid JSON.'));
      if (!model) return reject(arkError(400, 'MissingParameter', 'The parameter `model` is required.', 'model'));
      if (!content || !textItem) return reject(arkError(400, 'MissingParameter', 'The parameter `content` is required.', 'content'));
      const params = { ...parseTextCommands(rawText), ...pick(body, ['ratio', 'duration', 'resolution', 'seed', 'frames']) };
      const invalid = validateParams(params, model);
      if (invalid) return reject(arkError(400, 'InvalidParameter', `The parameter \`${invalid}\` specified in the request is not valid.`, invalid));
      const badImage = await imageRefusal(content);
      if (badImage) return reject(badImage);
      const gate = ctx.gateSubmit(PROVIDER, scenario, key);
      if (gate) return reject(rejection(gate));

      const task = ctx.createTask(PROVIDER, {
        id: `cgt-${stamp()}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        model,
        prompt: stripScenarioTags(rawText.replace(/--\w+\s+\S+/g, '')),
        scenario,
        submissionKey: submissionKeyOf(req),
        callbackUrl: typeof body.callback_url === 'string' ? body.callback_url : undefined,
        request: { ...body, ...params },
      });
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata, model, prompt: rawText, outcome: 'accepted', httpStatus: 200 });
      return { status: 200, headers: requestIdHeader(), body: { id: task.id } };
    });

    router.get(`${base}/:id`, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return arkError(401, 'AuthenticationError', 'The API key is missing or invalid.');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || (task.deleted && ctx.options.deletedTaskRead === 'not_found')) {
        return arkError(404, 'ResourceNotFound', `The specified task ${req.params.id} is not found.`);
      }
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? rejection(gate) : arkError(gate.status, 'InternalServiceError', 'The service encountered an unexpected internal error.');
      ctx.observe(task, true);
      const body = renderTask(ctx, task, task.phase);
      const reads = Number(task.extra.statusReads ?? 0) + 1;
      task.extra.statusReads = reads;
      if (reads <= (task.scenario.unknown_status ?? 0)) body.status = 'preprocessing';
      return { status: 200, headers: requestIdHeader(), body };
    });

    router.get(base, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return arkError(401, 'AuthenticationError', 'The API key is missing or invalid.');
      ctx.statsFor(PROVIDER).lists++;
      const pageNum = Math.max(1, Number(req.query.get('page_num') ?? 1));
      const pageSize = Math.min(500, Math.max(1, Number(req.query.get('page_size') ?? 10)));
      const status = req.query.get('filter.status');
      const ids = req.query.getAll('filter.task_ids');
      const model = req.query.get('filter.model');
      const all = [...ctx.tasks.values()]
        .filter((t) => t.provider === PROVIDER && !t.deleted)
        .map((t) => renderTask(ctx, t, t.phase))
        .filter((t) => (!status || t.status === status) && (ids.length === 0 || ids.includes(t.id)) && (!model || t.model === model))
        .reverse();
      return { status: 200, body: { total: all.length, items: all.slice((pageNum - 1) * pageSize, pageNum * pageSize) } };
    });

    router.delete(`${base}/:id`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return arkError(401, 'AuthenticationError', 'The API key is missing or invalid.');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return arkError(404, 'ResourceNotFound', `The specified task ${req.params.id} is not found.`);
      if (task.phase === 'queued' || task.phase === 'throttled') ctx.cancel(task);
      else if (task.phase === 'running') {
        // UNSURE (providers.md §1): exact error for cancelling a running task.
        return arkError(400, 'InvalidParameter', 'The task is running and cannot be cancelled.', 'id');
      } else task.deleted = true;
      return { status: 200, headers: requestIdHeader(), body: {} };
    });
  },
};

function renderTask(ctx: SimContext, task: SimTask, phase: SimPhase) {
  const req = task.request;
  const status =
    phase === 'throttled' ? 'queued'
    : phase === 'canceled' ? 'cancelled'
    : phase === 'failed' && task.failure?.code === 'expired' ? 'expired'
    : phase;
  const error =
    phase === 'failed' && status !== 'expired'
      ? task.failure?.moderation
        ? { code: 'OutputVideoSensitiveContentDetected.PolicyViolation', message: `The request failed because the output video may contain sensitive information. Request id: ${requestId()}` }
        : { code: task.failure?.code ?? 'InternalServiceError', message: task.failure?.message ?? 'The task failed.' }
      : null;
  const videoUrl = phase === 'succeeded' ? ctx.outputUrl(task, task.completedAtMs ?? Date.now()) : null;
  return {
    id: task.id,
    model: task.model,
    status,
    error,
    content: phase === 'succeeded' && videoUrl ? { video_url: videoUrl } : phase === 'succeeded' ? {} : undefined,
    seed: typeof req.seed === 'number' ? req.seed : 12345,
    resolution: (req.resolution as string | undefined) ?? '720p',
    ratio: (req.ratio as string | undefined) ?? '16:9',
    duration: Number(req.duration ?? 5),
    framespersecond: 24,
    ...(typeof req.safety_identifier === 'string' ? { safety_identifier: req.safety_identifier } : {}),
    ...(phase === 'succeeded' ? { usage: { completion_tokens: 108900, total_tokens: 108900 } } : {}),
    created_at: Math.floor(task.createdAtMs / 1000),
    updated_at: Math.floor(task.updatedAtMs / 1000),
  };
}

/**
 * Ark's image rules: each side above 300 and below 6000 px, width over height strictly between 0.4
 * and 2.5 (the wording of its refusal is ours; the code and param are Ark's).
 */
async function imageRefusal(content: Record<string, unknown>[]): Promise<SimReply | null> {
  for (const [i, item] of content.entries()) {
    const url = (item?.image_url as { url?: unknown } | undefined)?.url;
    if (item?.type !== 'image_url' || typeof url !== 'string') continue;
    const image = await sentImageSize(url);
    if (image === null) continue;
    const param = `content[${i}].image_url.url`;
    if (image === 'unreadable') return arkError(400, 'InvalidParameter', `The parameter \`${param}\` specified in the request is not valid: the image could not be decoded.`, param);
    const { width, height } = image;
    const ratio = width / height;
    if (Math.min(width, height) <= 300 || Math.max(width, height) >= 6000 || ratio <= 0.4 || ratio >= 2.5) {
      return arkError(400, 'InvalidParameter', `The parameter \`${param}\` specified in the request is not valid: image of ${width}x${height} px is outside the supported size or aspect ratio.`, param);
    }
  }
  return null;
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return arkError(429, 'RateLimitExceeded.EndpointRPMExceeded', 'Your request has exceeded the rate limit for this endpoint.', undefined, undocumentedRetryAfter(gate));
    case 'server':
      return arkError(gate.status, 'InternalServiceError', 'The service encountered an unexpected internal error.');
    case 'moderation':
      return arkError(400, 'InputTextSensitiveContentDetected', 'The request failed because the input text may contain sensitive information.');
    case 'reject':
      if (gate.code === 'asset') {
        return arkError(400, 'InvalidParameter', 'The parameter `content[1].image_url.url` specified in the request is not valid: the resource could not be downloaded.', 'content[1].image_url.url');
      }
      return arkError(gate.status, gate.code ?? defaultCode(gate.status), `Rejected by scenario (${gate.status}).`);
  }
}

function defaultCode(status: number): string {
  return ({ 400: 'InvalidParameter', 401: 'AuthenticationError', 403: 'AccessDenied', 404: 'InvalidEndpointOrModel.NotFound', 429: 'QuotaExceeded' } as Record<number, string>)[status] ?? 'InternalServiceError';
}

function arkError(status: number, code: string, message: string, param?: string, headers: Record<string, string> = {}): SimReply {
  return {
    status,
    headers: { ...requestIdHeader(), ...headers },
    body: { error: { code, message: `${message} Request id: ${requestId()}`, param: param ?? '', type: TYPE_BY_STATUS[status] ?? 'InternalServiceError' } },
  };
}

/** Legacy `--rt 16:9 --dur 5` commands in the prompt text. */
function parseTextCommands(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const alias: Record<string, string> = { rt: 'ratio', ratio: 'ratio', dur: 'duration', duration: 'duration', rs: 'resolution', resolution: 'resolution', seed: 'seed', frames: 'frames' };
  for (const m of text.matchAll(/--(\w+)\s+(\S+)/g)) {
    const name = alias[m[1]];
    if (!name) continue;
    out[name] = name === 'duration' || name === 'seed' || name === 'frames' ? Number(m[2]) : m[2];
  }
  return out;
}

/**
 * Per model generation (providers.md §1): 1.x takes 2–12 s, 2.0 takes 4–15 s or -1 (the model
 * chooses); `4k` only on 2.0 base; 2.0 takes no seed, and neither 1.5 pro nor 2.0 takes frames.
 */
function validateParams(p: Record<string, unknown>, model: string): string | null {
  const v2 = model.includes('seedance-2-0');
  if (p.ratio !== undefined && !RATIOS.has(String(p.ratio))) return 'ratio';
  if (p.resolution !== undefined && (!RESOLUTIONS.has(String(p.resolution)) || (p.resolution === '4k' && (!v2 || /seedance-2-0-(fast|mini)/.test(model))))) return 'resolution';
  if (p.duration !== undefined) {
    const d = Number(p.duration);
    if (!Number.isInteger(d) || (v2 ? d !== -1 && (d < 4 || d > 15) : d < 2 || d > 12)) return 'duration';
  }
  if (p.seed !== undefined && (v2 || !Number.isInteger(Number(p.seed)) || Number(p.seed) < -1 || Number(p.seed) > 4294967295)) return 'seed';
  if (p.frames !== undefined && (v2 || model.includes('seedance-1-5'))) return 'frames';
  return null;
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined && o[k] !== null).map((k) => [k, o[k]]));
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function requestId(): string {
  return `0217${Date.now()}${randomBytes(8).toString('hex')}`;
}

function requestIdHeader(): Record<string, string> {
  return { 'x-request-id': requestId() };
}

