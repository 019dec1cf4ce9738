import type { SimRouter } from './router';
import type { SimContext } from './sim-context';
import { fixtureVideo } from './fixture-video';
import { parseScenario } from './scenario';

/** Introspection and control endpoints plus the output file server. */
export function registerSimRoutes(router: SimRouter, ctx: SimContext): void {
  router.get('/_sim/health', () => ({ status: 200, body: { ok: true } }));
  router.get('/_sim/submissions', (req) => {
    const provider = req.query.get('provider');
    return { status: 200, body: ctx.submissions.filter((s) => !provider || s.provider === provider) };
  });
  router.get('/_sim/stats', () => ({ status: 200, body: ctx.allStats() }));
  router.get('/_sim/callbacks', () => ({ status: 200, body: ctx.callbacks.deliveries }));
  router.get('/_sim/tasks', () => ({
    status: 200,
    body: [...ctx.tasks.values()].map((t) => ({
      provider: t.provider, id: t.id, phase: t.phase, checks: t.checks, model: t.model, submissionKey: t.submissionKey ?? null, deleted: Boolean(t.deleted),
      // What kind of input image the submit carried (inlined data: URL or a link), for tests.
      inputImage: inputImageOf(t.request),
    })),
  }));
  // Load set-ups: `{ provider, count, scenario: "never_finish", model?, prompt? }` → `{ ids }`, up to 100,000 per call.
  router.post('/_sim/tasks/bulk', (req) => {
    const f = req.body.fields;
    const count = Number(f.count);
    if (typeof f.provider !== 'string' || !Number.isInteger(count) || count < 1 || count > 100_000) {
      return { status: 400, body: { error: 'provider (string) and count (1..100000) are required' } };
    }
    const prompt = typeof f.prompt === 'string' ? f.prompt : 'bulk';
    const scenario = parseScenario(undefined, typeof f.scenario === 'string' ? f.scenario : undefined);
    const tasks = ctx.createTasks(f.provider, count, { model: typeof f.model === 'string' ? f.model : 'bulk', prompt, scenario, request: {} });
    return { status: 200, body: { ids: tasks.map((t) => t.id) } };
  });
  router.post('/_sim/reset', () => {
    ctx.reset();
    return { status: 200, body: { ok: true } };
  });

  // Presigned-URL style output: 403 from `exp` on, like an expired S3/TOS signature (expire_output=0: at once).
  router.get('/_sim/files/:token.mp4', async (req) => {
    const task = ctx.taskByOutputToken(req.params.token);
    if (!task || task.deleted) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'NoSuchKey' };
    const exp = Number(req.query.get('exp'));
    if (!Number.isFinite(exp) || Date.now() >= exp) {
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'AccessDenied: Request has expired' };
    }
    const reads = Number(task.extra.outputReads ?? 0) + 1;
    task.extra.outputReads = reads;
    if (reads <= (task.scenario.output_server_error ?? 0)) return { status: 503, headers: { 'content-type': 'text/plain' }, body: 'ServiceUnavailable' };
    return { status: 200, headers: { 'content-type': 'video/mp4' }, body: await fixtureVideo() };
  });
}

/** The first image in a submit body: a `data:image/...;base64,` prefix, or a link (not a callback URL). */
function inputImageOf(request: unknown, key = ''): string | null {
  if (typeof request === 'string') {
    const inline = /^data:image\/[a-z]+;base64,/.exec(request);
    if (inline) return inline[0];
    return /^https?:\/\//.test(request) && !/callback|webhook/i.test(key) ? request : null;
  }
  if (!request || typeof request !== 'object') return null;
  for (const [k, v] of Object.entries(request)) {
    const found = inputImageOf(v, k);
    if (found) return found;
  }
  return null;
}
