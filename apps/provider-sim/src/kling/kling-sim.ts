import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { CheckRejection, SimContext, SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { statusCallbacks } from '../core/status-callbacks';
import { stripScenarioTags } from '../core/scenario';
import type { SimPhase, SimTask } from '../core/sim-task';

const PROVIDER = 'kling';
const MODELS = new Set(['kling-v1', 'kling-v1-6', 'kling-v2-master', 'kling-v2-1', 'kling-v2-1-master']);
/** kling-v2-1 makes video from an image only. */
const IMAGE_ONLY = new Set(['kling-v2-1']);
const RATIOS = new Set(['16:9', '9:16', '1:1']);
const MAX_PROMPT = 2500;
/** Access key → secret key the simulator knows (the default `sim-key` signs with itself). */
const SECRETS: Record<string, string> = { 'sim-key': 'sim-key', 'ak-kling-sim': 'sk-kling-sim' };

/**
 * Kling's video API as providers.md §8 reads it (third-party evidence, UNSURE overall): HS256 JWT
 * auth (`iss` = access key, `exp`, `nbf`), an envelope `{code, message, request_id, data}` on every
 * answer, text and image tasks under their own paths, statuses submitted → processing → succeed |
 * failed, and callbacks posting the task's `data` to `callback_url` (unsigned).
 */
export const klingSim: SimProvider = {
  name: PROVIDER,
  prefix: '/kling',
  register(router: SimRouter, ctx: SimContext) {
    const videos = `${this.prefix}/v1/videos`;
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, { provider: PROVIDER, url: (t) => t.callbackUrl, phases: ['running', 'succeeded', 'failed'], render: (t, phase) => renderTask(ctx, t, phase) }),
    );

    const create = (kind: 'text2video' | 'image2video') => async (req: SimRequest): Promise<SimReply> => {
      const denied = authError(ctx, req);
      if (denied) return denied;
      const body = req.body.fields;
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      const scenario = scenarioOf(req, prompt);
      await delay(scenario.slow);
      const model = typeof body.model_name === 'string' ? body.model_name : 'kling-v1';
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt });
      if (req.body.invalidJson) return reject(klingError(400, 1200, 'Invalid request parameters: the body is not JSON'));
      if (!MODELS.has(model)) return reject(klingError(400, 1201, `Invalid request parameters: model_name ${model} is not supported`));
      if (kind === 'text2video' && IMAGE_ONLY.has(model)) return reject(klingError(400, 1201, `Invalid request parameters: ${model} supports image2video only`));
      if (kind === 'text2video' && !prompt) return reject(klingError(400, 1201, 'Invalid request parameters: prompt is required'));
      if (prompt.length > MAX_PROMPT) return reject(klingError(400, 1201, `Invalid request parameters: prompt cannot exceed ${MAX_PROMPT} characters`));
      if (kind === 'image2video' && (typeof body.image !== 'string' || !body.image)) return reject(klingError(400, 1201, 'Invalid request parameters: image is required'));
      if (kind === 'image2video' && /^data:/.test(String(body.image))) return reject(klingError(400, 1201, 'Invalid request parameters: image must be a URL or Base64 without a data: prefix'));
      if (body.duration !== undefined && body.duration !== '5' && body.duration !== '10') return reject(klingError(400, 1201, 'Invalid request parameters: duration must be "5" or "10"'));
      if (body.mode !== undefined && body.mode !== 'std' && body.mode !== 'pro') return reject(klingError(400, 1201, 'Invalid request parameters: mode must be std or pro'));
      if (kind === 'text2video' && body.aspect_ratio !== undefined && !RATIOS.has(String(body.aspect_ratio))) return reject(klingError(400, 1201, 'Invalid request parameters: aspect_ratio'));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? prompt);
      if (gate) return reject(rejection(gate));
      const task = ctx.createTask(PROVIDER, {
        id: `${Date.now()}${Math.floor(Math.random() * 1e6)}`,
        model,
        prompt: stripScenarioTags(prompt),
        scenario,
        submissionKey: submissionKeyOf(req),
        callbackUrl: typeof body.callback_url === 'string' ? body.callback_url : undefined,
        request: body,
      });
      task.extra.kind = kind;
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata: {}, model, prompt, outcome: 'accepted', httpStatus: 200 });
      return ok(renderTask(ctx, task, task.phase));
    };
    router.post(`${videos}/text2video`, create('text2video'));
    router.post(`${videos}/image2video`, create('image2video'));

    router.get(`${videos}/:kind/:id`, async (req) => {
      const denied = authError(ctx, req);
      if (denied) return denied;
      const task = ctx.getTask(PROVIDER, req.params.id);
      // Tasks are read under the path of their kind.
      if (!task || task.extra.kind !== req.params.kind) return klingError(404, 1203, 'The requested resource does not exist: task not found');
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return rejection(gate);
      ctx.observe(task, true);
      return ok(renderTask(ctx, task, task.phase));
    });
  },
};

function renderTask(ctx: SimContext, task: SimTask, phase: SimPhase) {
  const status = phase === 'queued' || phase === 'throttled' ? 'submitted' : phase === 'running' ? 'processing' : phase === 'succeeded' ? 'succeed' : 'failed';
  const url = phase === 'succeeded' ? ctx.outputUrl(task, task.completedAtMs ?? Date.now()) : null;
  const message =
    phase === 'failed' ? (task.failure?.moderation ? 'Failure to pass the risk control system' : (task.failure?.message ?? 'Internal error, please try again'))
    : phase === 'canceled' ? 'Task canceled'
    : '';
  return {
    task_id: task.id,
    task_status: status,
    task_status_msg: message,
    task_info: typeof task.request.external_task_id === 'string' ? { external_task_id: task.request.external_task_id } : {},
    ...(phase === 'succeeded' ? { task_result: { videos: url ? [{ id: randomUUID(), url, duration: String(task.request.duration ?? '5') }] : [] } } : {}),
    created_at: task.createdAtMs,
    updated_at: task.updatedAtMs,
  };
}

/** The bearer JWT: HS256 with a secret the simulator knows for its `iss`, inside `nbf`..`exp`. */
function authError(ctx: SimContext, req: SimRequest): SimReply | null {
  if (!ctx.options.requireAuth) return null;
  const token = bearerToken(req);
  if (!token) return klingError(401, 1001, 'Authorization is empty');
  const [head, payload, sig] = token.split('.');
  let claims: { iss?: unknown; exp?: unknown; nbf?: unknown };
  let header: { alg?: unknown };
  try {
    header = JSON.parse(Buffer.from(head ?? '', 'base64url').toString());
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
  } catch {
    return klingError(401, 1002, 'Authorization is invalid');
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') return klingError(401, 1002, 'Authorization is invalid');
  const secret = typeof claims.iss === 'string' ? SECRETS[claims.iss] : undefined;
  const expected = secret ? Buffer.from(createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url')) : null;
  const given = Buffer.from(sig ?? '');
  if (header.alg !== 'HS256' || !expected || expected.length !== given.length || !timingSafeEqual(expected, given)) return klingError(401, 1002, 'Authorization is invalid');
  const now = Date.now() / 1000;
  if (typeof claims.nbf === 'number' && claims.nbf > now) return klingError(401, 1003, 'Authorization is not yet valid');
  if (typeof claims.exp !== 'number' || claims.exp <= now) return klingError(401, 1004, 'Authorization has expired');
  return null;
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'rate_limit':
      return klingError(429, 1302, 'The API request is too fast, please slow down');
    case 'capacity':
      return klingError(429, 1303, 'Concurrency or QPS exceeds the prepaid resource package limit');
    case 'server':
      return klingError(gate.status, gate.status === 503 ? 5001 : gate.status === 504 ? 5002 : 5000, 'Server internal error');
    case 'moderation':
      return klingError(400, 1301, 'Trigger the content security policy of the platform');
    case 'reject': {
      const code = Number(gate.code) || ({ 401: 1000, 402: 1101, 403: 1103, 404: 1203, 429: 1302 } as Record<number, number>)[gate.status] || 1200;
      return klingError(gate.status, code, 'Rejected by scenario');
    }
  }
}

const ok = (data: unknown): SimReply => ({ status: 200, body: { code: 0, message: 'SUCCEED', request_id: randomUUID(), data } });

function klingError(status: number, code: number, message: string): SimReply {
  return { status, body: { code, message, request_id: randomUUID() } };
}
