import { startStack, type Stack } from '@reelay/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiClient, isTerminalJob } from './support/api-client';

// Capacity and failover through the whole stack: the acceptance of the providers issue, with every
// service as a process and jobs followed to the end, not just to `running`.

interface SimStats {
  accepted: number;
  maxInFlight: number;
  rejectedAtCapacity: number;
  throttledAtCapacity: number;
}
interface SimSubmission {
  provider: string;
  submissionKey: string | null;
  outcome: string;
}

const simJson = async <T>(stack: Stack, path: string) => (await (await fetch(`${stack.sim.url}${path}`)).json()) as T;

describe('capacity', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      label: 'capacity',
      replicas: { dispatch: 2 },
      env: { PROVIDERS_ENABLED: 'runway', PROVIDER_MAX_IN_FLIGHT_RUNWAY: '3', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000' },
      simEnv: { SIM_MAX_IN_FLIGHT: '3' },
    });
  }, 120_000);
  afterAll(() => stack?.stop());

  it('never has more than 3 jobs in flight at the provider across two dispatch replicas, and all 20 succeed', async () => {
    const client = apiClient(stack.gateway.url, stack.createUser('cap', 10_000));
    const jobs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.submit({ model: 'gen4.5', prompt: `a lantern ${i} [sim:success_after=3]`, aspectRatio: '16:9', durationSeconds: 5 }),
      ),
    );
    const done = await Promise.all(jobs.map((j) => client.waitFor(j.body.id, isTerminalJob, 90_000)));
    expect(done.map((j) => j.status)).toEqual(Array(20).fill('succeeded'));
    const stats = (await simJson<Record<string, SimStats>>(stack, '/_sim/stats')).runway;
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(stats.maxInFlight).toBe(3);
    expect(stats.rejectedAtCapacity).toBe(0);
    expect(stats.throttledAtCapacity).toBe(0);
    expect(stats.accepted).toBe(20);
  }, 120_000);

  it('a job Runway holds THROTTLED because another client of the account took its places shows as delayed, then succeeds', async () => {
    // Two tasks of the same Runway account made outside reelay: with reelay's job, the account's 3 places are taken.
    const bulk = await fetch(`${stack.sim.url}/_sim/tasks/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'runway', count: 2, scenario: 'never_finish' }),
    });
    const { ids: others } = (await bulk.json()) as { ids: string[] };
    const client = apiClient(stack.gateway.url, stack.createUser('throttled', 1_000));
    const first = await client.submit({ model: 'gen4.5', prompt: 'a first lantern [sim:success_after=50]', aspectRatio: '16:9', durationSeconds: 5 });
    await client.waitFor(first.body.id, (j) => j.status === 'running', 30_000);
    const second = await client.submit({ model: 'gen4.5', prompt: 'a second lantern [sim:success_after=2]', aspectRatio: '16:9', durationSeconds: 5 });

    const held = await client.waitFor(second.body.id, (j) => j.status === 'delayed' || isTerminalJob(j), 30_000);
    expect(held).toMatchObject({ status: 'delayed', message: 'This is taking longer than usual. We are still checking.' });
    // The other client's tasks end; Runway starts the held task.
    for (const id of others) await fetch(`${stack.sim.url}/runway/v1/tasks/${id}`, { method: 'DELETE', headers: { authorization: 'Bearer k', 'x-runway-version': '2024-11-06' } });
    expect((await client.waitFor(second.body.id, isTerminalJob, 60_000)).status).toBe('succeeded');
    const stats = (await simJson<Record<string, SimStats>>(stack, '/_sim/stats')).runway;
    expect(stats.throttledAtCapacity).toBe(1);
    expect(stats.rejectedAtCapacity).toBe(0);
  }, 120_000);
});

describe('failover', () => {
  let stack: Stack;
  let primary: Server;
  const primaryHits: string[] = [];
  beforeAll(async () => {
    // Replicate, the primary for wan-2.2, is down: every call answers 503.
    primary = createServer((req, res) => {
      primaryHits.push(String(req.headers['x-reelay-submission-key'] ?? req.url));
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'Service Unavailable' }));
    });
    await new Promise<void>((r) => primary.listen(0, '127.0.0.1', r));
    stack = await startStack({
      label: 'failover',
      env: {
        PROVIDERS_ENABLED: 'replicate,fal',
        REPLICATE_BASE_URL: `http://127.0.0.1:${(primary.address() as AddressInfo).port}/v1`,
        CIRCUIT_FAILURE_THRESHOLD: '2',
        CIRCUIT_COOLDOWN_MS: '600000',
        DISPATCH_SERVER_MAX_RETRIES: '1',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    primary?.close();
  });

  it('sends jobs for a model offered twice on to the second provider when the first refuses them, and new ones there once it is failing', async () => {
    const client = apiClient(stack.gateway.url, stack.createUser('fo', 10_000));
    const body = (i: number) => ({ model: 'wan-2.2', prompt: `a harbour ${i} [sim:success_after=1]`, aspectRatio: '16:9', durationSeconds: 5 });

    // The first job meets the failing primary: every try there is answered 503 (so no task was made),
    // its retries open the circuit, and it goes on to fal.
    const first = (await client.submit(body(0))).body;
    expect(await client.waitFor(first.id, isTerminalJob, 60_000)).toMatchObject({ status: 'succeeded', provider: 'fal' });
    expect(primaryHits.filter((k) => k.startsWith(first.id))).toHaveLength(2);

    const later = await Promise.all([1, 2, 3].map(async (i) => (await client.submit(body(i))).body));
    const done = await Promise.all(later.map((j) => client.waitFor(j.id, isTerminalJob, 60_000)));
    expect(done.map((j) => [j.status, j.provider])).toEqual(Array(3).fill(['succeeded', 'fal']));

    const atSim = await simJson<SimSubmission[]>(stack, '/_sim/submissions');
    const jobOf = (key: string | null) => key?.split(':')[0];
    expect(atSim.filter((s) => s.outcome === 'accepted').map((s) => jobOf(s.submissionKey)).sort()).toEqual([first, ...later].map((j) => j.id).sort());
    expect(primaryHits.some((k) => later.some((j) => k.startsWith(j.id)))).toBe(false);
  }, 120_000);
});

describe('a model its provider has retired', () => {
  let stack: Stack;
  beforeAll(async () => {
    // OpenAI with a key of its own: a real account as far as reelay knows, so Sora's announced
    // shutdown (2026-09-24) applies. Nothing may be sent to it: the base URL leads nowhere.
    stack = await startStack({ label: 'retired', env: { PROVIDERS_ENABLED: 'local,openai', OPENAI_API_KEY: 'sk-test-retired', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
  }, 120_000);
  afterAll(() => stack?.stop());

  const RETIRED = 'sora-2 is no longer available: its provider stopped serving it on 2026-09-24. Choose another model (GET /v1/models).';

  it('is not listed, and a submit for it is refused with the reason, on both APIs, before any job is made', async () => {
    const client = apiClient(stack.gateway.url, stack.createUser('retired', 1_000));
    const models = await client.call<{ data: { id: string }[] }>('GET', '/v1/models');
    expect(models.body.data.map((m) => m.id)).toEqual(['local-preview']);

    const submit = await client.submit({ model: 'sora-2', prompt: 'a kite over the dunes', aspectRatio: '16:9', durationSeconds: 8 });
    // As for any model not offered (api.md): 400 invalid_request naming `model`.
    expect(submit.status).toBe(400);
    expect(submit.body).toMatchObject({ error: { code: 'invalid_request', message: RETIRED, details: [{ path: 'model', message: RETIRED }] } });

    const video = await client.call<{ error: { param: string; message: string } }>('POST', '/v1/videos', { model: 'sora-2-2025-10-06', prompt: 'a kite over the dunes' });
    expect(video.status).toBe(400);
    expect(video.body.error).toMatchObject({ param: 'model', message: `Invalid value for model. model: ${RETIRED}` });

    const list = await client.call<{ data: unknown[] }>('GET', '/v1/jobs');
    expect(list.body.data).toEqual([]);
  }, 60_000);
});
