import { randomUUID } from 'node:crypto';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import { undocumentedRetryAfter, type CheckRejection, type SimContext, type SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import type { SimTask } from '../core/sim-task';

const PROVIDER = 'runway';
const IMAGE_RATIOS = ['1280:720', '720:1280', '1104:832', '960:960', '832:1104', '1584:672'];
const VEO_RATIOS = ['1280:720', '720:1280', '1080:1920', '1920:1080'];
const twoToTen = (d: number) => d >= 2 && d <= 10;
/** Runway's limit on `data:` image URIs: 5 MB (providers.md §3; decimal megabytes, the stricter reading). */
const DATA_URI_MAX_LENGTH = 5_000_000;

/** What each model takes, per endpoint (providers.md §3): no `text` means image to video only. */
const MODELS: Record<string, { text?: string[]; image: string[]; duration: (d: number) => boolean; durationText: string }> = {
  'gen4.5': { text: ['1280:720', '720:1280'], image: IMAGE_RATIOS, duration: twoToTen, durationText: 'an integer between 2 and 10' },
  gen4_turbo: { image: IMAGE_RATIOS, duration: twoToTen, durationText: 'an integer between 2 and 10' },
  'veo3.1': { text: VEO_RATIOS, image: VEO_RATIOS, duration: (d) => [4, 6, 8].includes(d), durationText: '4, 6 or 8' },
  'veo3.1_fast': { text: VEO_RATIOS, image: VEO_RATIOS, duration: (d) => [4, 6, 8].includes(d), durationText: '4, 6 or 8' },
};

/** Runway API (providers.md §3, §11). Polling only: Runway has no callbacks. */
export const runwaySim: SimProvider = {
  name: PROVIDER,
  prefix: '/runway',
  register(router: SimRouter, ctx: SimContext) {
    // Over the account's concurrency Runway accepts the task and holds it THROTTLED; only its daily cap answers 429.
    ctx.queueAtCapacity(PROVIDER);
    const v1 = `${this.prefix}/v1`;
    const create = (kind: 'text' | 'image') => async (req: SimRequest): Promise<SimReply> => {
      const pre = preflight(ctx, req);
      if (pre) return pre;
      const body = req.body.fields;
      const prompt = typeof body.promptText === 'string' ? body.promptText : '';
      const scenario = scenarioOf(req, prompt);
      await delay(scenario.slow);
      const model = typeof body.model === 'string' ? body.model : '';
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt });
      if (req.body.invalidJson) return reject(rwError(400, 'Invalid JSON body.'));
      if (!model) return reject(rwError(400, 'Validation of body failed: model is required.'));
      if (kind === 'text' && !prompt) return reject(rwError(400, 'Validation of body failed: promptText is required.'));
      if (kind === 'image' && !body.promptImage) return reject(rwError(400, 'Validation of body failed: promptImage is required.'));
      // Runway fetches promptImage links itself, over HTTPS only; a data URI is taken as it is (providers.md §3).
      if (kind === 'image' && typeof body.promptImage === 'string' && !/^(https:|data:|runway:)/i.test(body.promptImage)) {
        return reject(rwError(400, 'Validation of body failed: promptImage must be an HTTPS URL, a data URI or a runway:// upload URI.'));
      }
      // Links must name a domain (no IP literals); Runway also refuses redirects and links failing HEAD, which this cannot see for other hosts.
      if (kind === 'image' && typeof body.promptImage === 'string' && /^https:\/\/(\[[0-9a-f:.]+\]|\d{1,3}(\.\d{1,3}){3})(:\d+)?(\/|$)/i.test(body.promptImage)) {
        return reject(rwError(400, 'Validation of body failed: promptImage must use a domain name, not an IP address.'));
      }
      if (kind === 'image' && typeof body.promptImage === 'string' && /^data:/i.test(body.promptImage) && body.promptImage.length > DATA_URI_MAX_LENGTH) {
        return reject(rwError(400, 'Validation of body failed: promptImage data URIs must be at most 5 MB.'));
      }
      // gen4 models: at most 1000 UTF-16 code units (what a JavaScript string's length counts).
      if (prompt.length > 1000) return reject(rwError(400, 'Validation of body failed: promptText must be at most 1000 characters.'));
      const spec = MODELS[model];
      if (!spec) return reject(rwError(400, `Validation of body failed: model ${model} is not available.`));
      const ratios = kind === 'text' ? spec.text : spec.image;
      if (!ratios) return reject(rwError(400, `Validation of body failed: model ${model} is not available for text_to_video.`));
      if (typeof body.ratio !== 'string' || !ratios.includes(body.ratio)) return reject(rwError(400, `Validation of body failed: ratio ${String(body.ratio)} is invalid for ${model}.`));
      const d = Number(body.duration);
      if (body.duration !== undefined && (!Number.isInteger(d) || !spec.duration(d))) return reject(rwError(400, `Validation of body failed: duration must be ${spec.durationText}.`));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? prompt);
      if (gate) return reject(rejection(gate));
      const task = ctx.createTask(PROVIDER, { model, prompt, scenario, submissionKey: submissionKeyOf(req), request: body });
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata: {}, model, prompt, outcome: 'accepted', httpStatus: 200 });
      return { status: 200, body: { id: task.id } };
    };
    router.post(`${v1}/text_to_video`, create('text'));
    router.post(`${v1}/image_to_video`, create('image'));

    router.get(`${v1}/tasks/:id`, async (req) => {
      const pre = preflight(ctx, req);
      if (pre) return pre;
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task) return rwError(404, 'Task not found.');
      if (task.deleted) return ctx.options.deletedTaskRead === 'not_found' ? rwError(404, 'Task not found.') : { status: 200, body: { id: task.id, createdAt: iso(task), status: 'CANCELLED' } };
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? rejection(gate) : rwError(gate.status, 'Service temporarily unavailable.');
      ctx.observe(task, true);
      return { status: 200, body: renderTask(ctx, task) };
    });

    router.delete(`${v1}/tasks/:id`, (req) => {
      const pre = preflight(ctx, req);
      if (pre) return pre;
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.deleted) return rwError(404, 'Task not found.');
      if (task.phase === 'succeeded' || task.phase === 'failed' || task.phase === 'canceled') task.deleted = true;
      else ctx.cancel(task);
      return { status: 204 };
    });

    router.get(`${v1}/organization`, (req) => {
      const pre = preflight(ctx, req);
      if (pre) return pre;
      return { status: 200, body: { creditBalance: 100000, tier: { maxMonthlyCreditSpend: 1000000, models: {} }, usage: { models: {} } } };
    });
  },
};

function renderTask(ctx: SimContext, task: SimTask) {
  const base = { id: task.id, createdAt: iso(task) };
  switch (task.phase) {
    case 'queued':
      return { ...base, status: 'PENDING' };
    case 'throttled':
      return { ...base, status: 'THROTTLED' };
    case 'running':
      return { ...base, status: 'RUNNING', ...(task.scenario.progress ? { progress: Number(task.progress.toFixed(2)) } : {}) };
    case 'succeeded': {
      // Runway re-signs output URLs on every read.
      const url = ctx.outputUrl(task, Date.now());
      return { ...base, status: 'SUCCEEDED', output: url ? [url] : [] };
    }
    case 'failed':
      return task.failure?.moderation
        ? { ...base, status: 'FAILED', failure: 'The output did not pass our content moderation.', failureCode: 'SAFETY.OUTPUT.VIDEO' }
        : { ...base, status: 'FAILED', failure: task.failure?.message ?? 'An internal error occurred.', failureCode: task.failure?.code ?? 'INTERNAL' };
    case 'canceled':
      return { ...base, status: 'CANCELLED' };
  }
}

function preflight(ctx: SimContext, req: SimRequest): SimReply | null {
  if (ctx.options.requireAuth && !bearerToken(req)) return rwError(401, 'Invalid API key.');
  if (!req.header('x-runway-version')) return rwError(400, 'The X-Runway-Version header is required.');
  return null;
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'capacity': // not reached: over its concurrency Runway queues (see create)
    case 'rate_limit':
      return rwError(429, 'You have exceeded the rate limit.', undocumentedRetryAfter(gate));
    case 'server':
      return rwError(gate.status, 'Service temporarily unavailable.');
    case 'moderation':
      return rwError(400, 'Your prompt did not pass content moderation (SAFETY.INPUT.TEXT).');
    case 'reject':
      return rwError(
        gate.status,
        gate.code === 'asset' ? 'Invalid asset: failed to fetch promptImage URL (HEAD request returned 404).' : `Rejected by scenario${gate.code ? ` (${gate.code})` : ''}.`,
      );
  }
}

function rwError(status: number, error: string, headers: Record<string, string> = {}): SimReply {
  return { status, headers: { 'x-request-id': randomUUID(), ...headers }, body: { error } };
}

function iso(task: SimTask): string {
  return new Date(task.createdAtMs).toISOString();
}
