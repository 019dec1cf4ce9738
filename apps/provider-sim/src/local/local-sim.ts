import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LocalRenderQueue, type LocalTask, type RenderAspectRatio, type RenderResolution } from '@reelay/providers';
import type { SimReply, SimRequest, SimRouter } from '../core/router';
import type { SimContext } from '../core/sim-context';
import { submissionKeyOf, type SimProvider } from '../core/sim-provider';

const PROVIDER = 'local';
const PREFIX = '/local/v1';
const ASPECTS = new Set<RenderAspectRatio>(['16:9', '9:16', '1:1']);
const RESOLUTIONS = new Set<RenderResolution>(['480p', '720p', '1080p']);
const queues = new WeakMap<SimContext, LocalRenderQueue>();

/** The render queue behind a running sim (tests wait on it with `idle()`). */
export function localRenderQueueOf(ctx: SimContext): LocalRenderQueue | undefined {
  return queues.get(ctx);
}

/**
 * The local renderer as an HTTP provider (reelay's default when no provider key is configured):
 * POST a task, GET its state, GET the MP4. Unlike the emulated providers it really renders, with
 * ffmpeg, into `LOCAL_RENDER_DIR` (default `.data/renders`); scenario tags do not apply.
 */
export const localSim: SimProvider = {
  name: PROVIDER,
  prefix: PREFIX,
  register(router: SimRouter, ctx: SimContext) {
    const concurrency = Number(process.env.LOCAL_RENDER_CONCURRENCY ?? 1);
    const queue = new LocalRenderQueue({ concurrency: Number.isFinite(concurrency) && concurrency > 0 ? concurrency : 1 });
    queues.set(ctx, queue);
    // SimContext has no shutdown hooks; stopping renders with it keeps `close()` complete.
    const closeContext = ctx.close.bind(ctx);
    ctx.close = async () => {
      await queue.close();
      await closeContext();
    };

    router.post(`${PREFIX}/tasks`, async (req) => {
      const b = req.body.fields;
      const prompt = typeof b.prompt === 'string' ? b.prompt : '';
      const duration = Number(b.duration);
      const aspect = String(b.aspect_ratio ?? '16:9') as RenderAspectRatio;
      const resolution = b.resolution === undefined || b.resolution === null ? null : (String(b.resolution) as RenderResolution);
      const seed = b.seed === undefined || b.seed === null ? 0 : Number(b.seed);
      const model = typeof b.model === 'string' ? b.model : 'local-preview';
      const problem =
        req.body.invalidJson ? 'body is not valid JSON'
        : !prompt ? 'prompt is required'
        : prompt.length > 4000 ? 'prompt is longer than 4000 characters'
        : !(duration > 0 && duration <= 60) ? 'duration must be a number of seconds in (0, 60]'
        : !ASPECTS.has(aspect) ? 'aspect_ratio must be 16:9, 9:16 or 1:1'
        : resolution !== null && !RESOLUTIONS.has(resolution) ? 'resolution must be 480p, 720p or 1080p'
        : !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1 ? 'seed must be an integer in [0, 2^32)'
        : null;
      const record = (taskId: string | null, httpStatus: number) =>
        ctx.record({ provider: PROVIDER, taskId, submissionKey: submissionKeyOf(req) ?? null, metadata: {}, model, prompt, outcome: taskId ? 'accepted' : 'rejected', httpStatus });
      if (problem) {
        record(null, 400);
        return error(400, 'invalid_request', problem);
      }
      const task = await queue.submit({ prompt, seed, durationSeconds: duration, aspectRatio: aspect, resolution, audio: b.audio === true });
      record(task.id, 201);
      const stats = ctx.statsFor(PROVIDER);
      stats.submissions++;
      stats.accepted++;
      return { status: 201, body: render(ctx, task) };
    });

    router.get(`${PREFIX}/tasks/:id`, async (req) => {
      const task = await queue.get(req.params.id);
      if (!task) return error(404, 'not_found', 'no such task');
      ctx.statsFor(PROVIDER).checks++;
      return { status: 200, body: render(ctx, task) };
    });

    router.delete(`${PREFIX}/tasks/:id`, async (req) => {
      const task = await queue.cancel(req.params.id);
      if (!task) return error(404, 'not_found', 'no such task');
      return { status: 200, body: render(ctx, task) };
    });

    router.get(`${PREFIX}/files/:name`, (req) => serveFile(queue, req));
    router.on('HEAD', `${PREFIX}/files/:name`, (req) => serveFile(queue, req, true));
  },
};

function render(ctx: SimContext, t: LocalTask): Record<string, unknown> {
  return {
    id: t.id,
    status: t.status,
    progress: t.progress,
    output:
      t.status === 'succeeded' && t.file
        ? { url: `${ctx.publicUrl}${PREFIX}/files/${t.file}`, content_type: 'video/mp4', bytes: t.bytes, sha256: t.sha256, width: t.width, height: t.height }
        : null,
    error: t.error === null ? null : { code: 'render_failed', message: t.error },
    request: { prompt: t.spec.prompt, seed: t.spec.seed ?? 0, duration: t.spec.durationSeconds, aspect_ratio: t.spec.aspectRatio, resolution: t.spec.resolution ?? null },
    created_at: t.createdAt,
    started_at: t.startedAt,
    completed_at: t.completedAt,
  };
}

/**
 * Whole file, or one `bytes=a-b` range (players seek with ranges). The body is buffered because
 * the shared router sends whole replies; renders are small.
 */
async function serveFile(queue: LocalRenderQueue, req: SimRequest, headOnly = false): Promise<SimReply> {
  const path = queue.filePath(req.params.name);
  if (!path) return error(404, 'not_found', 'no such file');
  const size = (await stat(path)).size;
  const headers: Record<string, string> = { 'content-type': 'video/mp4', 'accept-ranges': 'bytes', 'cache-control': 'public, max-age=31536000, immutable' };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.header('range') ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] || range[2])) {
    start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) return { status: 416, headers: { 'content-range': `bytes */${size}` }, body: '' };
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  if (headOnly) return { status, headers: { ...headers, 'content-length': String(end - start + 1) } };
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start, end })) chunks.push(chunk as Buffer);
  return { status, headers, body: Buffer.concat(chunks) };
}

function error(status: number, code: string, message: string): SimReply {
  return { status, body: { error: { code, message } } };
}
