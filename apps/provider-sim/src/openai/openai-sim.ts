import { randomBytes, randomUUID } from 'node:crypto';
import type { SimReply, SimRouter } from '../core/router';
import type { CheckRejection, SimContext, SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { statusCallbacks } from '../core/status-callbacks';
import { fixtureVideo } from '../core/fixture-video';
import type { SimPhase, SimTask } from '../core/sim-task';
import { signWebhook } from './standard-webhook-sign';
import { sentImageSize } from '../core/reference-image';

const PROVIDER = 'openai';
const SECONDS = new Set(['4', '8', '12', '16', '20']);
const SIZES = new Set(['720x1280', '1280x720', '1024x1792', '1792x1024', '1920x1080', '1080x1920']);

/** OpenAI Videos API (Sora), as openai-node v6 calls it (providers.md §2, §11). */
export const openaiSim: SimProvider = {
  name: PROVIDER,
  prefix: '/openai/v1',
  register(router: SimRouter, ctx: SimContext) {
    const base = `${this.prefix}/videos`;
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, {
        provider: PROVIDER,
        url: () => ctx.options.openaiWebhookUrl,
        phases: ['succeeded', 'failed'],
        render: (t, phase) => ({
          id: `evt_${randomBytes(12).toString('hex')}`,
          object: 'event',
          type: phase === 'failed' ? 'video.failed' : phase === 'succeeded' ? 'video.completed' : 'video.in_progress',
          created_at: Math.floor(Date.now() / 1000),
          data: { id: t.id },
        }),
        sign: (body) => signWebhook(ctx.options.openaiWebhookSecret ?? '', body),
      }),
    );

    router.post(base, async (req) => {
      const auth = authError(ctx, req.header('authorization'));
      if (auth) return auth;
      const body = req.body.fields;
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      const scenario = scenarioOf(req, prompt);
      await delay(scenario.slow);
      const model = typeof body.model === 'string' ? body.model : 'sora-2';
      const seconds = body.seconds === undefined ? '4' : String(body.seconds);
      const size = typeof body.size === 'string' ? body.size : '720x1280';
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt });
      if (req.body.invalidJson) return reject(oaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null, null));
      if (!prompt) return reject(oaiError(400, "Missing required parameter: 'prompt'.", 'invalid_request_error', 'prompt', 'missing_required_parameter'));
      if (!SECONDS.has(seconds)) {
        return reject(oaiError(400, `Invalid value: '${seconds}'. Supported values are: '4', '8', and '12'.`, 'invalid_request_error', 'seconds', 'invalid_value'));
      }
      if (!SIZES.has(size)) return reject(oaiError(400, `Invalid value: '${size}'.`, 'invalid_request_error', 'size', 'invalid_value'));
      const refused = await referenceImageRefusal(body.input_reference, size);
      if (refused) return reject(refused);
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? prompt);
      if (gate) return reject(rejection(gate));
      const task = ctx.createTask(PROVIDER, {
        id: `video_${randomBytes(16).toString('hex')}`,
        model,
        prompt,
        scenario,
        submissionKey: submissionKeyOf(req),
        request: { ...body, seconds, size },
        autoAdvance: Boolean(ctx.options.openaiWebhookUrl),
      });
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata: {}, model, prompt, outcome: 'accepted', httpStatus: 200 });
      return { status: 200, headers: reqId(), body: renderVideo(ctx, task, task.phase) };
    });

    router.get(`${base}/:id`, async (req) => {
      const auth = authError(ctx, req.header('authorization'));
      if (auth) return auth;
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return oaiError(404, `Video with id '${req.params.id}' not found.`, 'invalid_request_error', null, 'not_found');
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? rejection(gate) : oaiError(gate.status, 'The server had an error processing your request.', 'server_error', null, null);
      ctx.observe(task, true);
      // Python's poll helper sleeps for this many ms between GETs.
      return { status: 200, headers: { ...reqId(), 'openai-poll-after-ms': '200' }, body: renderVideo(ctx, task, task.phase) };
    });

    router.get(base, (req) => {
      const auth = authError(ctx, req.header('authorization'));
      if (auth) return auth;
      const limit = Math.min(100, Math.max(1, Number(req.query.get('limit') ?? 20)));
      const order = req.query.get('order') === 'asc' ? 'asc' : 'desc';
      let all = [...ctx.tasks.values()].filter((t) => t.provider === PROVIDER && !t.deleted);
      if (order === 'desc') all = all.reverse();
      const after = req.query.get('after');
      if (after) {
        const i = all.findIndex((t) => t.id === after);
        all = i >= 0 ? all.slice(i + 1) : all;
      }
      const data = all.slice(0, limit).map((t) => renderVideo(ctx, t, t.phase));
      return {
        status: 200,
        body: { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: all.length > limit },
      };
    });

    router.delete(`${base}/:id`, (req) => {
      const auth = authError(ctx, req.header('authorization'));
      if (auth) return auth;
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return oaiError(404, `Video with id '${req.params.id}' not found.`, 'invalid_request_error', null, 'not_found');
      if (task.phase !== 'succeeded' && task.phase !== 'failed') {
        // UNSURE (providers.md §2): what DELETE answers before the video is finished.
        return oaiError(400, 'Only completed or failed videos can be deleted.', 'invalid_request_error', null, 'invalid_state');
      }
      task.deleted = true;
      return { status: 200, body: { id: task.id, object: 'video.deleted', deleted: true } };
    });

    router.get(`${base}/:id/content`, async (req) => {
      const auth = authError(ctx, req.header('authorization'));
      if (auth) return auth;
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return oaiError(404, `Video with id '${req.params.id}' not found.`, 'invalid_request_error', null, 'not_found');
      const variant = req.query.get('variant') ?? 'video';
      if (variant !== 'video') return oaiError(404, `The sim serves no ${variant} variant.`, 'invalid_request_error', 'variant', 'not_found');
      // UNSURE (providers.md §2): the status for content requested before completion.
      if (task.phase !== 'succeeded' || !task.outputToken) return oaiError(404, 'Video content is not available.', 'invalid_request_error', null, 'not_found');
      if (Date.now() >= expiresAtMs(ctx, task)) return oaiError(404, 'Video content has expired.', 'invalid_request_error', null, 'expired');
      return { status: 200, headers: { 'content-type': 'video/mp4', ...reqId() }, body: await fixtureVideo() };
    });
  },
};

function expiresAtMs(ctx: SimContext, task: SimTask): number {
  return (task.completedAtMs ?? Date.now()) + (task.scenario.expire_output ?? ctx.options.outputTtlMs);
}

function renderVideo(ctx: SimContext, task: SimTask, phase: SimPhase) {
  const status = phase === 'succeeded' ? 'completed' : phase === 'failed' ? 'failed' : phase === 'running' ? 'in_progress' : 'queued';
  const done = phase === 'succeeded' || phase === 'failed';
  return {
    id: task.id,
    object: 'video',
    model: task.model,
    status,
    progress: Math.round(task.progress * 100),
    created_at: Math.floor(task.createdAtMs / 1000),
    completed_at: done && task.completedAtMs ? Math.floor(task.completedAtMs / 1000) : null,
    expires_at: phase === 'succeeded' ? Math.floor(expiresAtMs(ctx, task) / 1000) : null,
    prompt: task.prompt,
    size: String(task.request.size),
    seconds: String(task.request.seconds),
    remixed_from_video_id: null,
    error:
      phase === 'failed'
        ? task.failure?.moderation
          ? { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' }
          : { code: task.failure?.code ?? 'internal_error', message: task.failure?.message ?? 'Video generation failed.' }
        : null,
  };
}

/**
 * Sora takes an `input_reference` only of exactly the requested `size`: anything else is this 400,
 * with no param and no code (as OpenAI answers it). A reference the sim cannot read is let through.
 */
async function referenceImageRefusal(reference: unknown, size: string): Promise<SimReply | null> {
  const url = (reference as { image_url?: unknown } | undefined)?.image_url;
  if (typeof url !== 'string') return null;
  const image = await sentImageSize(url);
  if (image === null) return null;
  if (image === 'unreadable') return oaiError(400, 'The provided input_reference could not be read as an image.', 'invalid_request_error', 'input_reference', 'invalid_image');
  if (`${image.width}x${image.height}` !== size) return oaiError(400, 'Inpaint image must match the requested width and height', 'invalid_request_error', null, null);
  return null;
}

function authError(ctx: SimContext, header: string | undefined): SimReply | null {
  if (!ctx.options.requireAuth || /^Bearer\s+\S+/i.test(header ?? '')) return null;
  return oaiError(401, 'You did not provide an API key.', 'invalid_request_error', null, 'invalid_api_key');
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return oaiError(429, 'Rate limit reached for requests.', 'requests', null, 'rate_limit_exceeded', { 'retry-after-ms': String(gate.retryAfterSeconds * 1000), 'retry-after': String(gate.retryAfterSeconds) });
    case 'server':
      return oaiError(gate.status, 'The server had an error processing your request.', 'server_error', null, null);
    case 'moderation':
      return oaiError(400, 'Your request was blocked by our moderation system.', 'invalid_request_error', null, 'moderation_blocked');
    case 'reject':
      return oaiError(gate.status, `Rejected by scenario (${gate.status}).`, gate.status >= 500 ? 'server_error' : 'invalid_request_error', gate.code === 'input_reference' ? 'input_reference' : null, gate.code ?? null);
  }
}

function oaiError(status: number, message: string, type: string, param: string | null, code: string | null, headers: Record<string, string> = {}): SimReply {
  return { status, headers: { ...reqId(), ...headers }, body: { error: { message, type, param, code } } };
}

function reqId(): Record<string, string> {
  return { 'x-request-id': `req_${randomUUID().replace(/-/g, '')}` };
}
