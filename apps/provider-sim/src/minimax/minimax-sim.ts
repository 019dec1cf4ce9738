import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { CheckRejection, SimContext, SubmitRejection } from '../core/sim-context';
import { bearerToken, delay, scenarioOf, submissionKeyOf, type SimProvider, submitRejecter } from '../core/sim-provider';
import type { SimTask } from '../core/sim-task';

const PROVIDER = 'minimax';
const MODELS = new Set(['MiniMax-Hailuo-02', 'T2V-01', 'T2V-01-Director', 'I2V-01', 'I2V-01-Director', 'I2V-01-live', 'S2V-01']);
const IMAGE_MODELS = new Set(['I2V-01', 'I2V-01-Director', 'I2V-01-live', 'S2V-01']);
const RESOLUTIONS = new Set(['512P', '768P', '1080P']);
const SIZES: Record<string, [number, number]> = { '512P': [910, 512], '768P': [1366, 768], '1080P': [1920, 1080] };

/**
 * MiniMax Hailuo video generation (providers.md §8): create, query by task id, and the file whose
 * temporary download URL is the output. Errors come as HTTP 200 with a non-zero
 * `base_resp.status_code` (1002 rate limit, 1004 auth, 1008 balance, 1026/1027 sensitive input or
 * output, 2013 invalid parameters); only overload shows as an HTTP status. Callbacks are not
 * emulated (their challenge handshake is not documented well enough; reelay polls).
 */
export const minimaxSim: SimProvider = {
  name: PROVIDER,
  prefix: '/minimax',
  register(router: SimRouter, ctx: SimContext) {
    const v1 = `${this.prefix}/v1`;

    router.post(`${v1}/video_generation`, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return failed(1004, 'authorized error, wrong api key');
      const body = req.body.fields;
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      const scenario = scenarioOf(req, prompt);
      await delay(scenario.slow);
      const model = typeof body.model === 'string' ? body.model : '';
      const reject = submitRejecter(ctx, PROVIDER, req, { model, prompt });
      if (req.body.invalidJson) return reject(failed(2013, 'invalid params, body is not valid JSON'));
      if (!MODELS.has(model)) return reject(failed(2013, `invalid params, model ${model || '(empty)'} is not supported`));
      if (IMAGE_MODELS.has(model) && !body.first_frame_image) return reject(failed(2013, 'invalid params, first_frame_image is required for this model'));
      if (!prompt && !body.first_frame_image) return reject(failed(2013, 'invalid params, prompt is required'));
      const resolution = body.resolution === undefined ? '768P' : String(body.resolution);
      if (!RESOLUTIONS.has(resolution)) return reject(failed(2013, `invalid params, resolution ${resolution} is not supported`));
      if (body.duration !== undefined && body.duration !== 6 && body.duration !== 10) return reject(failed(2013, 'invalid params, duration must be 6 or 10'));
      if (body.duration === 10 && resolution === '1080P') return reject(failed(2013, 'invalid params, 1080P supports 6 s only'));
      const gate = ctx.gateSubmit(PROVIDER, scenario, submissionKeyOf(req) ?? prompt);
      if (gate) return reject(rejection(gate));
      const task = ctx.createTask(PROVIDER, { id: numericId(), model, prompt, scenario, submissionKey: submissionKeyOf(req), request: { ...body, resolution } });
      task.extra.fileId = numericId();
      ctx.record({ provider: PROVIDER, taskId: task.id, submissionKey: task.submissionKey ?? null, metadata: {}, model, prompt, outcome: 'accepted', httpStatus: 200 });
      return ok({ task_id: task.id });
    });

    router.get(`${v1}/query/video_generation`, async (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return failed(1004, 'authorized error, wrong api key');
      const task = ctx.getTask(PROVIDER, req.query.get('task_id') ?? '');
      if (!task) return failed(2013, 'invalid params, task not found', { task_id: req.query.get('task_id') ?? '', status: '' });
      await delay(task.scenario.slow);
      const gate = ctx.gateCheck(task);
      // A server fault of the query comes as MiniMax sends most errors: HTTP 200 with an unknown-error
      // code; a scenario that names a 4xx status gets that status.
      if (gate) return gate.kind === 'server' && gate.status >= 500 ? failed(1000, 'unknown error') : rejection(gate);
      ctx.observe(task, true);
      return renderQuery(task);
    });

    router.get(`${v1}/files/retrieve`, (req) => {
      if (ctx.options.requireAuth && !bearerToken(req)) return failed(1004, 'authorized error, wrong api key');
      const fileId = req.query.get('file_id') ?? '';
      const task = [...ctx.tasks.values()].find((t) => t.provider === PROVIDER && t.extra.fileId === fileId && t.phase === 'succeeded');
      const url = task ? ctx.outputUrl(task) : null;
      if (!task || !url || task.scenario.file_gone) return failed(2013, 'invalid params, file not found');
      return ok({
        file: { file_id: Number(fileId), bytes: 0, created_at: Math.floor((task.completedAtMs ?? Date.now()) / 1000), filename: 'output.mp4', purpose: 'video_generation', download_url: url },
      });
    });
  },
};

function renderQuery(task: SimTask): SimReply {
  const base = { task_id: task.id };
  switch (task.phase) {
    case 'queued':
    case 'throttled':
      return ok({ ...base, status: task.checks <= 1 ? 'Preparing' : 'Queueing', file_id: '' });
    case 'running':
      return ok({ ...base, status: 'Processing', file_id: '' });
    case 'succeeded': {
      if (!task.outputToken) return ok({ ...base, status: 'Success', file_id: '' });
      const [width, height] = SIZES[String(task.request.resolution)] ?? SIZES['768P'];
      return ok({ ...base, status: 'Success', file_id: task.extra.fileId, video_width: width, video_height: height });
    }
    case 'failed':
    case 'canceled':
      return task.failure?.moderation
        ? failed(1027, 'output new_sensitive', { ...base, status: 'Fail', file_id: '' })
        : failed(Number(task.failure?.code) || 1000, task.failure?.message ?? 'unknown error', { ...base, status: 'Fail', file_id: '' });
  }
}

function rejection(gate: SubmitRejection | CheckRejection): SimReply {
  switch (gate.kind) {
    case 'capacity':
    case 'rate_limit':
      return failed(1002, 'rate limit exceeded(RPM)');
    case 'server':
      return { status: gate.status, body: { base_resp: { status_code: 1000, status_msg: 'unknown error' } } };
    case 'moderation':
      return failed(1026, 'input new_sensitive');
    case 'reject': {
      const code = gate.status === 401 ? 1004 : gate.status === 402 ? 1008 : Number(gate.code) || 2013;
      return failed(code, gate.code && !Number(gate.code) ? `invalid params, ${gate.code}` : 'rejected by scenario');
    }
  }
}

const ok = (body: Record<string, unknown>): SimReply => ({ status: 200, body: { ...body, base_resp: { status_code: 0, status_msg: 'success' } } });

/** MiniMax's error: HTTP 200 with a non-zero base_resp. */
const failed = (statusCode: number, statusMsg: string, extra: Record<string, unknown> = {}): SimReply => ({
  status: 200,
  body: { ...extra, base_resp: { status_code: statusCode, status_msg: statusMsg } },
});

let seq = 0;
/** Task and file ids are long decimal numbers, sent as strings (task) and numbers (file). */
const numericId = () => `${Date.now()}${String(++seq % 100000).padStart(5, '0')}`;
