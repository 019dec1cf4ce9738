import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RENDER_FPS, renderDimensions, renderKey, renderVideo, type RenderOptions, type RenderResult, type RenderSpec } from './render';

export type LocalTaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface LocalTask {
  id: string;
  status: LocalTaskStatus;
  spec: RenderSpec;
  /** 0..100 */
  progress: number;
  /** File name inside the render directory, set once succeeded. */
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  width: number | null;
  height: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface LocalRenderQueueOptions {
  /** Where MP4s and task records live (`LOCAL_RENDER_DIR`, default `.data/renders`). */
  dir?: string;
  /** Renders running at once; the rest wait in order. */
  concurrency?: number;
  render?: (spec: RenderSpec, outFile: string, options: RenderOptions) => Promise<RenderResult>;
  renderOptions?: Omit<RenderOptions, 'signal' | 'onProgress'>;
}

const TERMINAL: readonly LocalTaskStatus[] = ['succeeded', 'failed', 'canceled'];
const TASK_ID = /^lr_[0-9a-f-]{36}$/;
const FILE_NAME = /^[0-9a-f]{32}\.mp4$/;

/**
 * A small job runner for the local renderer: submit returns at once, renders run in the
 * background (a few at a time), and task records are written to disk so a restarted process
 * can still answer for, and finish, tasks it accepted.
 */
export class LocalRenderQueue {
  readonly dir: string;
  private readonly concurrency: number;
  private readonly render: NonNullable<LocalRenderQueueOptions['render']>;
  private readonly renderOptions: LocalRenderQueueOptions['renderOptions'];
  private readonly tasks = new Map<string, LocalTask>();
  private readonly waiting: string[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly settled = new Set<() => void>();
  private closed = false;

  constructor(options: LocalRenderQueueOptions = {}) {
    this.dir = options.dir ?? process.env.LOCAL_RENDER_DIR ?? join(process.cwd(), '.data', 'renders');
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.render = options.render ?? renderVideo;
    this.renderOptions = options.renderOptions;
  }

  async submit(spec: RenderSpec): Promise<LocalTask> {
    if (this.closed) throw new Error('render queue is closed');
    const task: LocalTask = {
      id: `lr_${randomUUID()}`,
      status: 'queued',
      spec,
      progress: 0,
      file: null,
      bytes: null,
      sha256: null,
      width: null,
      height: null,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      completedAt: null,
    };
    this.tasks.set(task.id, task);
    await this.persist(task);
    const accepted = { ...task };
    this.waiting.push(task.id);
    this.pump();
    return accepted;
  }

  async get(id: string): Promise<LocalTask | null> {
    if (!TASK_ID.test(id)) return null;
    const known = this.tasks.get(id) ?? (await this.load(id));
    return known ? { ...known } : null;
  }

  /** Stops a task that has not finished; a finished task is returned unchanged. */
  async cancel(id: string): Promise<LocalTask | null> {
    const task = TASK_ID.test(id) ? (this.tasks.get(id) ?? (await this.load(id))) : null;
    if (!task) return null;
    if (!TERMINAL.includes(task.status)) {
      const i = this.waiting.indexOf(id);
      if (i >= 0) this.waiting.splice(i, 1);
      this.running.get(id)?.abort();
      this.finish(task, { status: 'canceled' });
      await this.persist(task);
    }
    return { ...task };
  }

  /** Absolute path of a finished render, or null for unknown/unsafe names. */
  filePath(name: string): string | null {
    if (!FILE_NAME.test(name)) return null;
    const path = join(this.dir, name);
    return existsSync(path) ? path : null;
  }

  /** Resolves once no render is queued or running (tests). */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.running.size === 0 && this.waiting.length === 0) {
          this.settled.delete(check);
          resolve();
        }
      };
      this.settled.add(check);
    });
  }

  /** Aborts running renders; queued tasks stay on disk and resume in the next process. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    for (const controller of this.running.values()) controller.abort();
    await this.idle();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const task = this.tasks.get(id);
      if (!task || task.status !== 'queued') continue;
      const controller = new AbortController();
      this.running.set(id, controller);
      void this.run(task, controller).finally(() => {
        this.running.delete(id);
        this.pump();
        for (const check of [...this.settled]) check();
      });
    }
  }

  private async run(task: LocalTask, controller: AbortController): Promise<void> {
    task.status = 'running';
    task.startedAt = new Date().toISOString();
    await this.persist(task);
    const name = `${renderKey(task.spec)}.mp4`;
    const out = join(this.dir, name);
    try {
      // Same prompt, seed and settings give the same bytes, so an earlier render is reused.
      if (controller.signal.aborted) throw new Error('render aborted');
      const result = existsSync(out)
        ? await this.describeExisting(task.spec, out)
        : await this.render(task.spec, out, {
            ...this.renderOptions,
            signal: controller.signal,
            onProgress: (p) => {
              task.progress = p;
            },
          });
      if (task.status !== 'running') return; // canceled meanwhile
      this.finish(task, {
        status: 'succeeded',
        progress: 100,
        file: name,
        bytes: result.bytes,
        sha256: result.sha256,
        width: result.width,
        height: result.height,
      });
    } catch (err) {
      if (task.status !== 'running') return;
      if (this.closed) {
        // Interrupted by shutdown: leave it queued on disk for the next process.
        task.status = 'queued';
        task.startedAt = null;
      } else {
        this.finish(task, { status: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      await this.persist(task);
    }
  }

  private async describeExisting(spec: RenderSpec, file: string): Promise<RenderResult> {
    const bytes = await readFile(file);
    return {
      file,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      ...renderDimensions(spec.aspectRatio, spec.resolution),
      durationSeconds: Math.round(spec.durationSeconds * RENDER_FPS) / RENDER_FPS,
    };
  }

  private finish(task: LocalTask, patch: Partial<LocalTask>): void {
    Object.assign(task, patch, { completedAt: new Date().toISOString() });
  }

  private taskFile(id: string): string {
    return join(this.dir, 'tasks', `${id}.json`);
  }

  private async persist(task: LocalTask): Promise<void> {
    await mkdir(join(this.dir, 'tasks'), { recursive: true });
    const path = this.taskFile(task.id);
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(task));
    await rename(tmp, path);
  }

  private async load(id: string): Promise<LocalTask | null> {
    let task: LocalTask;
    try {
      task = JSON.parse(await readFile(this.taskFile(id), 'utf8')) as LocalTask;
    } catch {
      return null;
    }
    this.tasks.set(id, task);
    if (task.status === 'running') task.status = 'queued'; // its process died mid-render
    if (task.status === 'queued' && !this.closed) {
      this.waiting.push(id);
      this.pump();
    }
    return task;
  }
}
