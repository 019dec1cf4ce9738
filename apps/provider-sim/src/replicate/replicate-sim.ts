import { randomBytes } from 'node:crypto';
import { signStandardWebhook } from '@reelay/providers';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { SimContext, SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { statusCallbacks } from '../core/status-callbacks';
import { stripScenarioTags } from '../core/scenario';
import { isTerminalPhase, type SimPhase, type SimTask } from '../core/sim-task';

/** How long Replicate keeps an API prediction's output (and its URL works). */
const DATA_RETENTION_MS = 3_600_000;
const PROVIDER = 'replicate';
const PREFIX = '/replicate/v1';
/** Signing secret for webhooks (`SIM_REPLICATE_WEBHOOK_SECRET`), served at /webhooks/default/secret. */
export const DEFAULT_REPLICATE_WEBHOOK_SECRET = `whsec_${Buffer.from('reelay-provider-sim-replicate-key').toString('base64')}`;
const MAX_WAIT_SECONDS = 60;

/**
 * Replicate predictions (providers.md §6, §11): create by version or by model, `Prefer: wait`,
 * `Cancel-After` deadlines (`aborted` before start, `canceled` after), cancel, list, and
 * Standard-Webhooks-signed webhooks filtered by `webhook_events_filter`.
 */
export const replicateSim: SimProvider = {
  name: PROVIDER,
  prefix: PREFIX,
  register(router: SimRouter, ctx: SimContext) {
    const secret = process.env.SIM_REPLICATE_WEBHOOK_SECRET || DEFAULT_REPLICATE_WEBHOOK_SECRET;
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, {
        provider: PROVIDER,
        url: (t) => (eventAllowed(t) ? t.callbackUrl : undefined),
        phases: ['running', 'succeeded', 'failed', 'canceled'],
        render: (t, phase) => renderPrediction(ctx, t, phase),
        sign: (body) => {
          const id = `msg_${randomBytes(12).toString('hex')}`;
          const ts = Math.floor(Date.now() / 1000);
          return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signStandardWebhook(secret, id, ts, body)}` };
        },
      }),
    );

    const create = (modelOf: (req: SimRequest) => { model: string; version: string | null }) => async (req: SimRequest): Promise<SimReply> => {
      if (ctx.options.requireAuth && !bearerToken(req)) return problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');
      const body = req.body.fields;
      const input = (body.input ?? null) as Record<string, unknown> | null;
      const rawPrompt = typeof input?.prompt === 'string' ? input.prompt : '';
      const scenario = scenarioOf(req, rawPrompt);
      await delay(scenario.slow);
      const { model, version } = modelOf(req);
      const metadata: Record<string, unknown> = {};
      if (typeof body.webhook === 'string') metadata.webhook = body.webhook;
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt: rawPrompt, metadata });
      if (req.body.invalidJson) return reject(problem(400, 'Bad request', 'Request body is not valid JSON'));
      if (version === '') return reject(invalid('version', 'version is required'));
      if (!input || typeof input !== 'object') return reject(invalid('input', 'input is required'));
      if (!rawPrompt) return reject(invalid('input', 'prompt is required'));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? rawPrompt);
      if (gate) return reject(rejection(gate));

      const filter = Array.isArray(body.webhook_events_filter) ? body.webhook_events_filter.map(String) : DEFAULT_WEBHOOK_EVENTS;
      const task = ctx.createTask(PROVIDER, {
        id: predictionId(),
        model,
        prompt: stripScenarioTags(rawPrompt),
        scenario,
        submissionKey: submissionKeyOf(req),
        callbackUrl: typeof body.webhook === 'string' ? body.webhook : undefined,
        request: { input, version: version ?? fakeVersion(model) },
        autoAdvance: Boolean(req.header('prefer')),
      });
      task.extra.filter = filter;
      const deadline = parseDuration(req.header('cancel-after'));
      if (deadline !== undefined) task.extra.deadlineMs = task.createdAtMs + deadline;
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata, model, prompt: rawPrompt, outcome: 'accepted', httpStatus: 201 });

      const wait = parseWait(req.header('prefer'));
      if (wait !== undefined) {
        const until = Date.now() + wait * 1000;
        while (!isTerminalPhase(advance(ctx, task, false).phase) && Date.now() < until) await delay(25);
      }
      return { status: 201, body: renderPrediction(ctx, task, task.phase) };
    };

    router.post(`${PREFIX}/predictions`, create((req) => {
      const v = typeof req.body.fields.version === 'string' ? req.body.fields.version : '';
      const [ref, id] = v.includes(':') ? v.split(':', 2) : ['', v];
      return { model: ref || 'unknown/unknown', version: id };
    }));
    router.post(`${PREFIX}/models/:owner/:name/predictions`, create((req) => ({ model: `${req.params.owner}/${req.params.name}`, version: null })));
    router.post(`${PREFIX}/deployments/:owner/:name/predictions`, create((req) => ({ model: `${req.params.owner}/${req.params.name}`, version: null })));

    router.get(`${PREFIX}/predictions/:id`, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task) return problem(404, 'Not found', 'The requested resource could not be found.');
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      if (gate) return gate.kind === 'rate_limit' ? throttled(gate.retryAfterSeconds) : problem(gate.status, 'Internal Server Error', 'Internal server error');
      advance(ctx, task, true);
      return { status: 200, body: renderPrediction(ctx, task, task.phase) };
    });

    router.post(`${PREFIX}/predictions/:id/cancel`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task) return problem(404, 'Not found', 'The requested resource could not be found.');
      ctx.cancel(task);
      return { status: 200, body: renderPrediction(ctx, task, task.phase) };
    });

    router.get(`${PREFIX}/predictions`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');
      const results = [...ctx.tasks.values()].filter((t) => t.provider === PROVIDER).reverse().map((t) => renderPrediction(ctx, t, t.phase));
      return { status: 200, body: { next: null, previous: null, results } };
    });

    router.get(`${PREFIX}/webhooks/default/secret`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return problem(401, 'Unauthenticated', 'You did not pass a valid authentication token');
      return { status: 200, body: { key: secret } };
    });
  },
};

/** Without `webhook_events_filter`, Replicate sends new output and completion, not `start` or `logs`. */
const DEFAULT_WEBHOOK_EVENTS = ['output', 'completed'];

/** `start` covers the move to processing; `completed` covers terminal states (providers.md §6). */
function eventAllowed(task: SimTask): boolean {
  const filter = (task.extra.filter as string[] | undefined) ?? DEFAULT_WEBHOOK_EVENTS;
  return isTerminalPhase(task.phase) ? filter.includes('completed') : filter.includes('start');
}

/** Observes the task, then applies a `Cancel-After` deadline: `aborted` if never started, else `canceled`. */
function advance(ctx: SimContext, task: SimTask, asCheck: boolean): SimTask {
  ctx.observe(task, asCheck);
  const deadline = task.extra.deadlineMs as number | undefined;
  if (deadline !== undefined && !isTerminalPhase(task.phase) && Date.now() >= deadline) {
    if (task.phase === 'queued' || task.phase === 'throttled') task.extra.aborted = true;
    ctx.cancel(task);
  }
  return task;
}

function renderPrediction(ctx: SimContext, task: SimTask, phase: SimPhase): Record<string, unknown> {
  const status =
    phase === 'queued' || phase === 'throttled' ? 'starting'
    : phase === 'running' ? 'processing'
    : phase === 'canceled' ? (task.extra.aborted ? 'aborted' : 'canceled')
    : phase;
  const url = `${ctx.publicUrl}${PREFIX}/predictions/${task.id}`;
  const started = phase !== 'queued' && phase !== 'throttled' && !task.extra.aborted;
  const done = isTerminalPhase(phase);
  // Outputs of API predictions are removed an hour after they finish (providers.md §6): the
  // prediction then reads `data_removed: true` with no output (`expire_output` sets that time).
  const removed = phase === 'succeeded' && Date.now() >= (task.completedAtMs ?? Date.now()) + (task.scenario.expire_output ?? DATA_RETENTION_MS);
  const output = phase === 'succeeded' && !removed ? ctx.outputUrl(task, task.completedAtMs ?? Date.now()) : null;
  const error =
    phase !== 'failed' ? null
    : task.failure?.moderation ? 'The input or output was flagged as sensitive. Please try again with different inputs. (E005)'
    : (task.failure?.message ?? task.failure?.code ?? 'Prediction failed.');
  const request = task.request as { input: Record<string, unknown>; version: string };
  return {
    id: task.id,
    model: task.model,
    version: request.version,
    input: request.input,
    logs: started ? 'Generating video...\n' : '',
    output,
    data_removed: removed,
    error,
    status,
    source: 'api',
    created_at: new Date(task.createdAtMs).toISOString(),
    started_at: started ? new Date(task.createdAtMs + 1).toISOString() : null,
    completed_at: done ? new Date(task.completedAtMs ?? task.updatedAtMs).toISOString() : null,
    ...(task.extra.deadlineMs ? { deadline: new Date(task.extra.deadlineMs as number).toISOString() } : {}),
    urls: { get: url, cancel: `${url}/cancel`, stream: `${url}/stream`, web: `https://replicate.com/p/${task.id}` },
    ...(phase === 'succeeded' ? { metrics: { predict_time: 1.5, total_time: 2 } } : {}),
    ...(task.callbackUrl ? { webhook: task.callbackUrl, webhook_events_filter: task.extra.filter } : {}),
  };
}

function rejection(gate: SubmitRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return throttled(gate.retryAfterSeconds);
    case 'server':
      return problem(gate.status, 'Internal Server Error', 'Internal server error');
    case 'moderation':
      return problem(422, 'Input validation failed', 'The input was flagged as sensitive. Please try again with different inputs. (E005)');
    case 'reject':
      return gate.status === 422 ? invalid('input', gate.code ?? 'invalid input') : problem(gate.status, gate.code ?? 'Rejected', `Rejected by scenario (${gate.status}).`);
  }
}

function throttled(retryAfterSeconds: number): SimReply {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: { detail: `Request was throttled. Your rate limit resets in ~${retryAfterSeconds}s.`, status: 429 },
  };
}

function invalid(field: string, description: string): SimReply {
  return {
    status: 422,
    body: { title: 'Input validation failed', detail: `- ${field}: ${description}`, status: 422, invalid_fields: [{ type: 'required', field, description }] },
  };
}

function problem(status: number, title: string, detail: string): SimReply {
  return { status, headers: { 'content-type': 'application/problem+json' }, body: { title, detail, status } };
}

function parseWait(prefer: string | undefined): number | undefined {
  const m = /^\s*wait(?:=(\d+))?\s*$/i.exec(prefer ?? '');
  if (!m) return undefined;
  return Math.min(MAX_WAIT_SECONDS, Math.max(1, m[1] ? Number(m[1]) : MAX_WAIT_SECONDS));
}

/** `500ms`, `30s`, `5m`, `1h` (also combined like `1m30s`). */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = '';
  for (const m of text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0];
  }
  return matched === text.trim() && matched ? total : undefined;
}

function predictionId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(26)].map((b) => alphabet[b % alphabet.length]).join('');
}

function fakeVersion(model: string): string {
  return Buffer.from(model.padEnd(32, '-')).toString('hex').slice(0, 64);
}
