import { buffer } from 'node:stream/consumers';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalAdapter, createAdapters, toJobErrorCode, withLocalFallback, type ProviderCheckResult } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { providerError, request } from '../testing/adapter-harness';
import { localRenderQueueOf } from './local-sim';

const ffprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

async function probe(file: string): Promise<{ duration: number; width: number; height: number; codec: string; pixFmt: string }> {
  const { stdout } = await promisify(execFile)(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,pix_fmt:format=duration', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number; pix_fmt: string }[]; format: { duration: string } };
  return { duration: Number(j.format.duration), width: j.streams[0].width, height: j.streams[0].height, codec: j.streams[0].codec_name, pixFmt: j.streams[0].pix_fmt };
}

describe('local renderer through LocalAdapter and provider-sim /local/v1', () => {
  let sim: RunningProviderSim;
  let adapter: LocalAdapter;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-sim-'));
    process.env.LOCAL_RENDER_DIR = join(dir, 'renders');
    sim = await startProviderSim({ port: 0 });
    delete process.env.LOCAL_RENDER_DIR;
    adapter = new LocalAdapter({ baseUrl: `${sim.url}/local/v1` });
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function finish(taskId: string): Promise<ProviderCheckResult[]> {
    const seen: ProviderCheckResult[] = [];
    for (let i = 0; i < 400; i++) {
      const r = await adapter.check(taskId);
      seen.push(r);
      if (r.state === 'succeeded' || r.state === 'failed' || r.state === 'canceled') return seen;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error('render did not finish');
  }

  async function renderToFile(prompt: string, aspectRatio: '16:9' | '9:16' | '1:1', durationSeconds: number, name: string) {
    const { providerTaskId } = await adapter.submit(request({ model: 'local-preview', prompt, aspectRatio, durationSeconds, seed: 1 }));
    const seen = await finish(providerTaskId);
    const last = seen[seen.length - 1];
    expect(last.state).toBe('succeeded');
    const res = await adapter.fetchOutput(last.outputUrl!);
    const bytes = await buffer(res.body);
    const file = join(dir, name);
    await writeFile(file, bytes);
    return { file, bytes, seen };
  }

  it.each([
    ['16:9', 2, 640, 360],
    ['9:16', 1.5, 360, 640],
    ['1:1', 1, 360, 360],
  ] as const)('renders a playable %s H.264 MP4 of %ss', async (aspect, seconds, width, height) => {
    const { file, seen } = await renderToFile(`a paper boat ${aspect}`, aspect, seconds, `${width}x${height}.mp4`);
    expect(seen[0].state).toMatch(/queued|running/);
    const p = await probe(file);
    expect(p).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width, height });
    expect(Math.abs(p.duration - seconds)).toBeLessThanOrEqual(0.1);
  });

  it('gives different videos for different prompts', async () => {
    const a = await renderToFile('a red kite over dunes', '16:9', 1, 'a.mp4');
    const b = await renderToFile('a green frog on a lily pad', '16:9', 1, 'b.mp4');
    expect(a.bytes.equals(b.bytes)).toBe(false);
  });

  it('records submissions with the reelay submission key', async () => {
    const req = request({ model: 'local-preview', durationSeconds: 1 });
    const { providerTaskId } = await adapter.submit(req);
    expect(sim.ctx.submissions.find((s) => s.taskId === providerTaskId)).toMatchObject({ provider: 'local', submissionKey: req.submissionKey, outcome: 'accepted' });
    await localRenderQueueOf(sim.ctx)!.idle();
  });

  it('rejects invalid settings as validation_failed', async () => {
    const err = await providerError(() => adapter.submit(request({ model: 'local-preview', durationSeconds: 0 })));
    expect(toJobErrorCode(err)).toBe('validation_failed');
  });

  it('cancels a render', async () => {
    const first = await adapter.submit(request({ model: 'local-preview', prompt: 'long one', durationSeconds: 30 }));
    const second = await adapter.submit(request({ model: 'local-preview', prompt: 'queued behind it', durationSeconds: 30 }));
    await adapter.cancel(second.providerTaskId);
    await adapter.cancel(first.providerTaskId);
    expect((await adapter.check(first.providerTaskId)).state).toBe('canceled');
    expect((await adapter.check(second.providerTaskId)).state).toBe('canceled');
    await localRenderQueueOf(sim.ctx)!.idle();
  });

  it('serves byte ranges and 404s unknown tasks and files', async () => {
    const { bytes, seen } = await renderToFile('ranges', '1:1', 1, 'r.mp4');
    const url = seen[seen.length - 1].outputUrl!;
    const part = await fetch(url, { headers: { range: 'bytes=0-7' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(0, 8))).toBe(true);
    expect((await providerError(() => adapter.check('lr_00000000-0000-0000-0000-000000000000'))).kind).toBe('not_found');
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(`${sim.url}/local/v1/files/${'0'.repeat(32)}.mp4`)))).toBe('output_missing');
  });

  it('is configured with the sim, and is the fallback when no provider key is set', () => {
    expect(createAdapters({ PROVIDER_SIM_URL: sim.url }).get('local')).toBeInstanceOf(LocalAdapter);
    const none = createAdapters({});
    expect([...none.keys()]).toEqual([]);
    expect([...withLocalFallback(none, { LOCAL_RENDERER_BASE_URL: `${sim.url}/local/v1` }).keys()]).toEqual(['local']);
    const real = createAdapters({ VEO_API_KEY: 'k' });
    expect([...withLocalFallback(real, {}).keys()]).toEqual(['veo']);
  });
});
