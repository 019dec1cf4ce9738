import type { Job } from '@reelay/contracts';
import { startStack, type ServiceProcess, type Stack } from '@reelay/testing';
import { apiClient, isTerminalJob, type ApiClient } from './support/api-client';

// Graceful drain: every worker replica is replaced one at a time (SIGTERM, then a new process)
// while jobs flow. A stopping process stops pulling, finishes or hands back what it holds and exits
// 0 before its grace period forces exit 1; nothing it held may be lost or done twice.

const WORKERS = ['intake', 'dispatch', 'polling', 'notification'] as const;
// Events a job records once at most; progress repeats by nature.
const REPEATABLE = new Set(['JobProgressed']);

let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startStack({
    label: 'rolling',
    replicas: { intake: 2, dispatch: 2, polling: 2, notification: 2 },
    // The gateway's per-key rate limit is not under test here; polling 50 jobs would trip it.
    env: { PROVIDERS_ENABLED: 'local,runway', LOG_LEVEL: 'info', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000' },
  });
  api = apiClient(stack.gateway.url, stack.createUser('roller', 10_000));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One-second local renders, and every fifth a Runway job through the simulator (three polls), one
 * every 500 ms from before the first restart until after the last, so every stop meets work.
 */
async function submitJobs(until: () => boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; ids.length < 30 || !until(); i++) {
    const body =
      i % 5 === 4
        ? { model: 'gen4.5', prompt: `a lighthouse at dusk, take ${i} [sim:success_after=3]`, aspectRatio: '16:9', durationSeconds: 5 }
        : { model: 'local-preview', prompt: `a red fox running through snow, take ${i}`, aspectRatio: '16:9', durationSeconds: 1 };
    const r = await api.submit(body);
    if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
    ids.push(r.body.id);
    await sleep(500);
  }
  return ids;
}

interface Restart {
  name: string;
  pid: number;
  code: number | null;
  stopMs: number;
  output: string;
}

/** Replaces each worker process that was running at the start, one at a time. */
async function rollingRestart(): Promise<Restart[]> {
  const restarts: Restart[] = [];
  const original = stack.services.filter((s): s is ServiceProcess => (WORKERS as readonly string[]).includes(s.name));
  for (const proc of original) {
    const started = Date.now();
    const code = await proc.kill('SIGTERM');
    restarts.push({ name: proc.name, pid: proc.child.pid!, code, stopMs: Date.now() - started, output: proc.output() });
    await stack.start(proc.name);
    await sleep(300);
  }
  return restarts;
}

it('replaces every worker replica while jobs keep coming: all succeed, no transition twice, every stop is clean', async () => {
  let restarted = false;
  const submitting = submitJobs(() => restarted);
  await sleep(1500);
  const restarts = await rollingRestart();
  restarted = true;
  const ids = await submitting;

  expect(restarts.map((r) => r.name).sort()).toEqual([...WORKERS, ...WORKERS].sort());
  for (const r of restarts) {
    // Exit 0 means it drained before the 25 s grace period (which exits 1 with work still open).
    expect({ name: r.name, code: r.code }).toEqual({ name: r.name, code: 0 });
    expect(r.output).toContain('stopped cleanly');
  }
  // For the report: how long each drain took.
  console.log(`${ids.length} jobs; drain times (ms): ${restarts.map((r) => `${r.name} ${r.stopMs}`).join(', ')}`);

  const finals: Job[] = [];
  for (const id of ids) finals.push(await api.waitFor(id, isTerminalJob, 90_000));
  expect(finals.filter((j) => j.status !== 'succeeded').map((j) => `${j.id} ${j.status} ${j.errorCode}`)).toEqual([]);

  for (const id of ids) {
    const history = await api.call<{ data: { type: string }[] }>('GET', `/v1/jobs/${id}/events`);
    expect(history.status).toBe(200);
    const types = history.body.data.map((e) => e.type);
    const repeated = types.filter((t, i) => !REPEATABLE.has(t) && types.indexOf(t) !== i);
    expect({ id, repeated }).toEqual({ id, repeated: [] });
    expect(types).toEqual(expect.arrayContaining(['JobSubmitted', 'JobValidated', 'JobProviderAccepted', 'JobSucceeded']));
  }
}, 240_000);
