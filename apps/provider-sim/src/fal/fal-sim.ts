import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { SimContext, SubmitRejection } from '../core/sim-context';
import { delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import { statusCallbacks } from '../core/status-callbacks';
import { stripScenarioTags } from '../core/scenario';
import { isTerminalPhase, type SimTask } from '../core/sim-task';

const PROVIDER = 'fal';
const PREFIX = '/fal';
const SIM_USER_ID = 'sim-user';
const INFRA_ERRORS: Record<string, { status: number; detail: string }> = {
  request_timeout: { status: 504, detail: 'Request timed out' },
  startup_timeout: { status: 504, detail: 'Runner startup timed out' },
  runner_scheduling_failure: { status: 503, detail: 'Runner scheduling failure' },
  runner_connection_timeout: { status: 503, detail: 'Runner connection timed out' },
  runner_disconnected: { status: 503, detail: 'Runner disconnected' },
  runner_connection_refused: { status: 503, detail: 'Runner connection refused' },
  internal_error: { status: 500, detail: 'Internal error' },
};

/** The sim's webhook signing key; its public half is served as a JWKS like fal's. */
const signingKey: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');

/**
 * fal queue (providers.md §7, §11): submit under `{owner}/{app}[/sub/path]`, status/result/cancel
 * under `{owner}/{app}/requests/{id}` (sub-path trimmed), `queue_position`, result errors in fal's
 * two shapes, and `?fal_webhook=` deliveries signed with Ed25519 (JWKS at `/fal/.well-known/jwks.json`).
 */
export const falSim: SimProvider = {
  name: PROVIDER,
  prefix: PREFIX,
  register(router: SimRouter, ctx: SimContext) {
    ctx.onTransition(
      PROVIDER,
      statusCallbacks(ctx, {
        provider: PROVIDER,
        url: (t) => t.callbackUrl,
        phases: ['succeeded', 'failed', 'canceled'],
        render: (t) => {
          const result = renderResult(ctx, t);
          const ok = result.status === 200;
          return {
            request_id: t.id,
            gateway_request_id: t.id,
            status: ok ? 'OK' : 'ERROR',
            payload: result.body,
            ...(ok ? {} : { error: `Invalid status code: ${result.status}` }),
          };
        },
        sign: (body, t) => signFalWebhook(t.id, body),
      }),
    );

    router.get(`${PREFIX}/.well-known/jwks.json`, () => ({
      status: 200,
      body: { keys: [{ ...signingKey.publicKey.export({ format: 'jwk' }), kid: 'sim-ed25519', use: 'sig', alg: 'EdDSA' }] },
    }));

    router.get(`${PREFIX}/:owner/:app/requests/:id/status`, async (req) => {
      const found = await lookup(ctx, req, true);
      if ('reply' in found) return found.reply;
      const { task } = found;
      const withLogs = req.query.get('logs') === '1';
      return { status: 200, headers: { 'x-fal-request-id': task.id }, body: renderStatus(ctx, task, withLogs) };
    });

    router.get(`${PREFIX}/:owner/:app/requests/:id`, async (req) => {
      const found = await lookup(ctx, req, false);
      if ('reply' in found) return found.reply;
      const { task } = found;
      if (!isTerminalPhase(task.phase)) return { status: 400, body: { detail: 'Request is still in progress' } };
      const reads = Number(task.extra.resultReads ?? 0) + 1;
      task.extra.resultReads = reads;
      if (reads <= (task.scenario.result_server_error ?? 0)) {
        return { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
      }
      const reply = renderResult(ctx, task);
      return { ...reply, headers: { ...reply.headers, 'x-fal-request-id': task.id } };
    });

    router.put(`${PREFIX}/:owner/:app/requests/:id/cancel`, (req) => {
      if (ctx.options.requireAuth && !falKey(req)) return unauthorized();
      const task = ctx.getTask(PROVIDER, req.params.id);
      if (!task || task.extra.app !== `${req.params.owner}/${req.params.app}`) return { status: 404, body: { status: 'NOT_FOUND' } };
      if (isTerminalPhase(task.phase)) return { status: 400, body: { status: 'ALREADY_COMPLETED' } };
      // A queued request is removed; a running one only gets a signal, which this simulated app
      // ignores unless the scenario says it honors cancels.
      if (task.phase === 'queued' || task.phase === 'throttled') {
        ctx.cancel(task);
        return { status: 200, body: { status: 'OK' } };
      }
      if (task.scenario.honor_cancel) ctx.cancel(task);
      return { status: 202, body: { status: 'CANCELLATION_REQUESTED' } };
    });

    const submit = async (req: SimRequest): Promise<SimReply> => {
      if (ctx.options.requireAuth && !falKey(req)) return unauthorized();
      const input = req.body.fields;
      const rawPrompt = typeof input.prompt === 'string' ? input.prompt : '';
      const scenario = scenarioOf(req, rawPrompt);
      await delay(scenario.slow);
      const app = `${req.params.owner}/${req.params.app}`;
      const model = req.params.path ? `${app}/${req.params.path}` : app;
      const webhook = req.query.get('fal_webhook') ?? undefined;
      const metadata = webhook ? { fal_webhook: webhook } : {};
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt: rawPrompt, metadata });
      if (req.body.invalidJson) return reject(validation('body', 'Invalid JSON body', 'json_invalid'));
      if (!rawPrompt) return reject(validation('prompt', 'Field required', 'missing'));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? rawPrompt);
      if (gate) return reject(rejection(gate));

      const task = ctx.createTask(PROVIDER, {
        id: randomUUID(),
        model,
        prompt: stripScenarioTags(rawPrompt),
        scenario,
        submissionKey: submissionKeyOf(req),
        callbackUrl: webhook,
        request: input,
      });
      task.extra.app = app;
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata, model, prompt: rawPrompt, outcome: 'accepted', httpStatus: 200 });
      return {
        status: 200,
        headers: { 'x-fal-request-id': task.id },
        body: { ...urls(ctx, task), status: 'IN_QUEUE', queue_position: queuePosition(task), ...(webhook ? { gateway_request_id: task.id } : {}) },
      };
    };
    router.post(`${PREFIX}/:owner/:app`, submit);
    router.post(`${PREFIX}/:owner/:app/:path*`, submit);
  },
};

async function lookup(ctx: SimContext, req: SimRequest, asCheck: boolean): Promise<{ task: SimTask } | { reply: SimReply }> {
  if (ctx.options.requireAuth && !falKey(req)) return { reply: unauthorized() };
  const task = ctx.getTask(PROVIDER, req.params.id);
  // Like fal, the app id in the URL must be the submit's `{owner}/{app}` (sub-path trimmed).
  if (!task || task.extra.app !== `${req.params.owner}/${req.params.app}`) return { reply: { status: 404, body: { detail: 'Request not found' } } };
  await delay(task.scenario.slow);
  if (asCheck) {
    const gate = ctx.gateCheck(task);
    if (gate) {
      return {
        reply: gate.kind === 'rate_limit'
          ? { status: 429, headers: { 'retry-after': String(gate.retryAfterSeconds) }, body: { detail: 'Rate limit exceeded' } }
          : { status: gate.status, body: { detail: 'Internal server error' } },
      };
    }
  }
  ctx.observe(task, asCheck);
  return { task };
}

function urls(ctx: SimContext, task: SimTask) {
  const base = `${ctx.publicUrl}${PREFIX}/${task.extra.app as string}/requests/${task.id}`;
  return { request_id: task.id, response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
}

/** Queued tasks in `queue=N` scenarios count their remaining queue steps down. */
function queuePosition(task: SimTask): number {
  const queue = task.scenario.queue ?? 0;
  return Math.max(0, queue - task.checks);
}

function renderStatus(ctx: SimContext, task: SimTask, withLogs: boolean): Record<string, unknown> {
  const base = urls(ctx, task);
  if (task.phase === 'queued' || task.phase === 'throttled') return { ...base, status: 'IN_QUEUE', queue_position: queuePosition(task) };
  const logs = withLogs ? [{ message: 'Generating video', level: 'INFO', source: 'USER', timestamp: new Date(task.updatedAtMs).toISOString() }] : null;
  if (task.phase === 'running') return { ...base, status: 'IN_PROGRESS', logs };
  return { ...base, status: 'COMPLETED', logs, metrics: { inference_time: task.phase === 'succeeded' ? 12.3 : null } };
}

function renderResult(ctx: SimContext, task: SimTask): SimReply {
  if (task.phase === 'canceled') return { status: 400, body: { detail: 'Request was cancelled', error_type: 'request_cancelled' } };
  if (task.phase === 'failed') {
    if (task.failure?.moderation) {
      return {
        status: 422,
        headers: { 'x-fal-retryable': 'false' },
        body: {
          detail: [{
            loc: ['body', 'prompt'],
            msg: 'The content could not be processed because it contained material flagged by a content checker.',
            type: 'content_policy_violation',
            url: 'https://docs.fal.ai/errors#content_policy_violation',
            ctx: { categories: ['violence'] },
            input: task.prompt,
          }],
        },
      };
    }
    const code = task.failure?.code ?? 'internal_error';
    // The app itself raised: fal's JSON `detail`, no infrastructure error type (UNSURE wording).
    if (code === 'app_exception') return { status: 500, body: { detail: task.failure?.message ?? 'Application raised an exception' } };
    const infra = INFRA_ERRORS[code];
    if (infra) {
      return { status: infra.status, headers: { 'x-fal-error-type': code }, body: { detail: task.failure?.message ?? infra.detail, error_type: code } };
    }
    return validation('image_url', task.failure?.message ?? `Failed: ${code}`, code);
  }
  const url = ctx.outputUrl(task, task.completedAtMs ?? Date.now());
  if (!url) return { status: 200, body: { seed: 42 } };
  return { status: 200, body: { video: { url, content_type: 'video/mp4', file_name: 'output.mp4', file_size: null }, seed: 42 } };
}

function rejection(gate: SubmitRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return { status: 429, headers: { 'retry-after': String(gate.retryAfterSeconds) }, body: { detail: 'Rate limit exceeded' } };
    case 'server': {
      const type = gate.status === 503 ? 'runner_scheduling_failure' : gate.status === 504 ? 'request_timeout' : 'internal_error';
      return { status: gate.status, headers: { 'x-fal-error-type': type }, body: { detail: INFRA_ERRORS[type].detail, error_type: type } };
    }
    case 'moderation':
      return {
        status: 422,
        body: {
          detail: [{ loc: ['body', 'prompt'], msg: 'The prompt was flagged by a content checker.', type: 'content_policy_violation', url: 'https://docs.fal.ai/errors#content_policy_violation', ctx: { categories: ['sexual'] } }],
        },
      };
    case 'reject':
      if (gate.status === 422) return validation('prompt', `Rejected by scenario`, gate.code ?? 'value_error');
      return { status: gate.status, body: { detail: gate.code ? `Rejected by scenario: ${gate.code}` : `Rejected by scenario (${gate.status})` } };
  }
}

function validation(field: string, msg: string, type: string): SimReply {
  return { status: 422, body: { detail: [{ loc: ['body', field], msg, type, url: `https://docs.fal.ai/errors#${type}` }] } };
}

function unauthorized(): SimReply {
  return { status: 401, body: { detail: 'No user found for Key ID and Secret' } };
}

function falKey(req: SimRequest): string | undefined {
  return /^Key\s+(.+)$/i.exec(req.header('authorization') ?? '')?.[1];
}

/** fal's webhook signature: Ed25519 over `request_id\nuser_id\ntimestamp\nsha256_hex(body)`, hex-encoded. */
export function signFalWebhook(requestId: string, body: string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const digest = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from(`${requestId}\n${SIM_USER_ID}\n${timestampSeconds}\n${digest}`);
  return {
    'x-fal-webhook-request-id': requestId,
    'x-fal-webhook-user-id': SIM_USER_ID,
    'x-fal-webhook-timestamp': String(timestampSeconds),
    'x-fal-webhook-signature': sign(null, message, signingKey.privateKey).toString('hex'),
  };
}
