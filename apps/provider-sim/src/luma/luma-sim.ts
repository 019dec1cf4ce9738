import { randomUUID } from 'node:crypto';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import { undocumentedRetryAfter, type CheckRejection, type SimContext, type SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { statusCallbacks } from '../core/status-callbacks';
import type { SimPhase, SimTask } from '../core/sim-task';

const PROVIDER = 'luma';
const RATIOS = new Set(['1:1', '16:9', '9:16', '4:3', '3:4', '21:9', '9:21']);
const RESOLUTIONS = new Set(['540p', '720p', '1080p', '4k']);

/** Luma Dream Machine API (providers.md §4, §11). */
export const lumaSim: SimProvider = {
  name: PROVIDER,
  prefix: '/luma/dream-machine/v1',
  register(router: SimRouter, ctx: SimContext) {
    const p = this.prefix;
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, {
        provider: PROVIDER,
        url: (t) => t.callbackUrl,
        phases: ['running', 'succeeded', 'failed'],
        render: (t, phase) => renderGeneration(ctx, t, phase),
        // Luma retries every answer other than 200 (providers.md §4), a 204 included.
        acknowledged: (httpStatus) => httpStatus === 200,
      }),
    );

    const create = async (req: SimRequest): Promise<SimReply> => {
      if (ctx.options.requireAuth && !bearerToken(req)) return lumaError(401, 'Invalid API key is provided');
      const body = req.body.fields;
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      const scenario = scenarioOf(req, prompt);
      await delay(scenario.slow);
      const model = typeof body.model === 'string' ? body.model : '';
      const callbackUrl = typeof body.callback_url === 'string' ? body.callback_url : undefined;
      const metadata = callbackUrl ? { callback_url: callbackUrl } : {};
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt, metadata });
      if (req.body.invalidJson) return reject(lumaError(400, 'Invalid JSON body'));
      if (!model) return reject(lumaError(400, 'model is required'));
      if (body.aspect_ratio !== undefined && !RATIOS.has(String(body.aspect_ratio))) return reject(lumaError(400, `Invalid aspect_ratio: ${String(body.aspect_ratio)}`));
      if (body.duration !== undefined && !/^\d+s$/.test(String(body.duration))) return reject(lumaError(400, `Invalid duration: ${String(body.duration)}`));
      if (body.resolution !== undefined && !RESOLUTIONS.has(String(body.resolution))) return reject(lumaError(400, `Invalid resolution: ${String(body.resolution)}`));
      const frameUrl = keyframeImageUrl(body.keyframes);
      if (frameUrl !== undefined && !/^https?:\/\//i.test(frameUrl)) return reject(lumaError(400, 'keyframes.frame0.url must be a publicly reachable http(s) URL'));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? prompt);
      if (gate) return reject(rejection(gate));
      const task = ctx.createTask(PROVIDER, { model, prompt, scenario, submissionKey: submissionKeyOf(req), callbackUrl, request: body });
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata, model, prompt, outcome: 'accepted', httpStatus: 201 });
      return { status: 201, body: renderGeneration(ctx, task, task.phase) };
    };
    router.post(`${p}/generations/video`, create);
    router.post(`${p}/generations`, create);

    router.get(`${p}/generations/:id`, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return lumaError(401, 'Invalid API key is provided');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return lumaError(404, 'Generation not found');
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? rejection(gate) : lumaError(gate.status, 'Internal server error');
      ctx.observe(task, true);
      return { status: 200, body: renderGeneration(ctx, task, task.phase) };
    });

    router.get(`${p}/generations`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return lumaError(401, 'Invalid API key is provided');
      ctx.statsFor(PROVIDER).lists++;
      const limit = Math.max(1, Number(req.query.get('limit') ?? 100));
      const offset = Math.max(0, Number(req.query.get('offset') ?? 0));
      const all = [...ctx.tasks.values()].filter((t) => t.provider === PROVIDER && !t.deleted).reverse();
      const page = all.slice(offset, offset + limit).map((t) => renderGeneration(ctx, t, t.phase));
      return { status: 200, body: { generations: page, count: all.length, has_more: offset + limit < all.length, limit, offset } };
    });

    router.delete(`${p}/generations/:id`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return lumaError(401, 'Invalid API key is provided');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return lumaError(404, 'Generation not found');
      ctx.cancel(task);
      task.deleted = true;
      return { status: 204 };
    });

    router.get(`${p}/ping`, () => ({ status: 200, body: { message: 'pong' } }));
  },
};

/** Luma documents keyframe images as public URLs only; the first frame's, if the body has one. */
function keyframeImageUrl(keyframes: unknown): string | undefined {
  const frame = (keyframes as { frame0?: { type?: unknown; url?: unknown } } | undefined)?.frame0;
  return frame?.type === 'image' ? String(frame.url ?? '') : undefined;
}

function renderGeneration(ctx: SimContext, task: SimTask, phase: SimPhase) {
  const state = phase === 'running' ? 'dreaming' : phase === 'succeeded' ? 'completed' : phase === 'failed' || phase === 'canceled' ? 'failed' : 'queued';
  const failure =
    phase === 'failed'
      ? task.failure?.moderation
        ? 'Advanced moderation failed'
        : (task.failure?.message ?? task.failure?.code ?? 'Internal error')
      : phase === 'canceled'
        ? 'Generation was deleted'
        : null;
  const video = phase === 'succeeded' ? ctx.outputUrl(task, task.completedAtMs ?? Date.now()) : null;
  return {
    id: task.id,
    generation_type: 'video',
    state,
    failure_reason: failure,
    created_at: new Date(task.createdAtMs).toISOString(),
    assets: phase === 'succeeded' ? { video, image: null, progress_video: null } : null,
    model: task.model,
    request: task.request,
  };
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return lumaError(429, 'Too many requests, please slow down', undocumentedRetryAfter(gate));
    case 'server':
      return lumaError(gate.status, 'Internal server error');
    case 'moderation':
      return lumaError(400, 'Prompt not allowed: advanced moderation failed');
    case 'reject':
      return lumaError(gate.status, gate.code ? `Rejected by scenario: ${gate.code}` : 'Rejected by scenario');
  }
}

function lumaError(status: number, detail: string, headers: Record<string, string> = {}): SimReply {
  return { status, headers: { 'x-request-id': randomUUID(), ...headers }, body: { detail } };
}
