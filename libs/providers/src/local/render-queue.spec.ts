import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRenderQueue } from './render-queue';
import type { RenderOptions, RenderResult, RenderSpec } from './render';

const spec: RenderSpec = { prompt: 'lighthouse in a storm', seed: 3, durationSeconds: 1, aspectRatio: '1:1' };

describe('LocalRenderQueue', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'render-queue-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a task at once and renders it in the background', async () => {
    const queue = new LocalRenderQueue({ dir });
    const task = await queue.submit(spec);
    expect(task.status).toBe('queued');
    await queue.idle();
    const done = await queue.get(task.id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, width: 360, height: 360 });
    expect(queue.filePath(done!.file!)).toBe(join(dir, done!.file!));
    await queue.close();
  });

  it('reuses an earlier render of the same spec', async () => {
    let renders = 0;
    const queue = new LocalRenderQueue({ dir, render: countingRender(() => renders++) });
    const a = await queue.submit(spec);
    await queue.idle();
    const b = await queue.submit(spec);
    await queue.idle();
    expect(renders).toBe(1);
    expect((await queue.get(b.id))!.file).toBe((await queue.get(a.id))!.file);
    await queue.close();
  });

  it('runs one render at a time by default, in submission order', async () => {
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const queue = new LocalRenderQueue({
      dir,
      render: async (s, out) => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(s.prompt);
        await new Promise((r) => setTimeout(r, 10));
        active--;
        return countingRender(() => undefined)(s, out);
      },
    });
    for (const p of ['one', 'two', 'three']) await queue.submit({ ...spec, prompt: p });
    await queue.idle();
    expect(order).toEqual(['one', 'two', 'three']);
    expect(maxActive).toBe(1);
    await queue.close();
  });

  it('cancels a queued task and aborts a running one', async () => {
    const queue = new LocalRenderQueue({ dir, render: (_s, _out, o) => abortableForever(o) });
    const running = await queue.submit({ ...spec, prompt: 'first' });
    const queued = await queue.submit({ ...spec, prompt: 'second' });
    await waitFor(async () => (await queue.get(running.id))!.status === 'running');
    expect((await queue.cancel(queued.id))!.status).toBe('canceled');
    expect((await queue.cancel(running.id))!.status).toBe('canceled');
    await queue.idle();
    expect((await queue.get(running.id))!.status).toBe('canceled');
    await queue.close();
  });

  it('reports a failed render with its reason', async () => {
    const queue = new LocalRenderQueue({ dir, render: async () => Promise.reject(new Error('ffmpeg exited with 1')) });
    const task = await queue.submit(spec);
    await queue.idle();
    expect(await queue.get(task.id)).toMatchObject({ status: 'failed', error: 'ffmpeg exited with 1' });
    await queue.close();
  });

  it('lets a new process answer for, and finish, tasks an earlier one accepted', async () => {
    const first = new LocalRenderQueue({ dir, render: (_s, _out, o) => abortableForever(o) });
    const task = await first.submit(spec);
    await waitFor(async () => (await first.get(task.id))!.status === 'running');
    await first.close();

    const second = new LocalRenderQueue({ dir, render: countingRender(() => undefined) });
    expect((await second.get(task.id))!.status).toMatch(/queued|running/);
    await second.idle();
    expect((await second.get(task.id))!.status).toBe('succeeded');
    await second.close();
  });

  it('refuses file names that could escape the render directory', () => {
    const queue = new LocalRenderQueue({ dir });
    expect(queue.filePath('../etc/passwd')).toBeNull();
    expect(queue.filePath(`${'a'.repeat(32)}.mp4`)).toBeNull();
    expect(existsSync(dir)).toBe(true);
  });
});

function countingRender(onRender: () => void) {
  return async (s: RenderSpec, out: string): Promise<RenderResult> => {
    onRender();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(out, `fake ${s.prompt}`);
    return { file: out, bytes: 5, sha256: 'x', width: 360, height: 360, durationSeconds: s.durationSeconds };
  };
}

function abortableForever(o: RenderOptions): Promise<RenderResult> {
  return new Promise((_resolve, reject) => {
    if (o.signal?.aborted) reject(new Error('render aborted'));
    o.signal?.addEventListener('abort', () => reject(new Error('render aborted')));
  });
}

async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}
