import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';

const auth = { authorization: 'Bearer k', 'content-type': 'application/json', 'x-runway-version': '2024-11-06' };

async function runwaySubmit(url: string, prompt: string, key: string): Promise<Response> {
  return fetch(`${url}/runway/v1/text_to_video`, {
    method: 'POST',
    headers: { ...auth, 'x-reelay-submission-key': key },
    body: JSON.stringify({ model: 'gen4.5', promptText: prompt, ratio: '1280:720', duration: 5 }),
  });
}

describe('provider-sim control endpoints and capacity', () => {
  let sim: RunningProviderSim;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0, maxInFlight: { runway: 2, seedance: 1 } });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
  });

  type Stats = Record<string, { maxInFlight: number; inFlight: number; rejectedAtCapacity: number; throttledAtCapacity: number; accepted: number }>;
  const stats = async () => (await (await fetch(`${sim.url}/_sim/stats`)).json()) as Stats;

  it('refuses a submit over the in-flight limit with 429 where the provider does (Ark), and records the max seen', async () => {
    const ark = `${sim.url}/seedance/api/v3/contents/generations/tasks`;
    const submit = (text: string) =>
      fetch(ark, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'seedance-1-0-pro-250528', content: [{ type: 'text', text }] }) });
    const a = (await (await submit('a [sim:success_after=1]')).json()) as { id: string };
    const over = await submit('b');
    expect(over.status).toBe(429);
    await fetch(`${ark}/${a.id}`, { headers: { authorization: 'Bearer k' } }); // a succeeds, freeing its place
    expect((await submit('b')).status).toBe(200);
    expect((await stats()).seedance).toMatchObject({ maxInFlight: 1, inFlight: 1, rejectedAtCapacity: 1, throttledAtCapacity: 0, accepted: 2 });
  });

  it('holds a Runway task over the concurrency limit THROTTLED instead of refusing it, and starts it when a place frees', async () => {
    const check = async (id: string) => ((await (await fetch(`${sim.url}/runway/v1/tasks/${id}`, { headers: auth })).json()) as { status: string }).status;
    const a = (await (await runwaySubmit(sim.url, 'a [sim:success_after=1]', 'k-a')).json()) as { id: string };
    await runwaySubmit(sim.url, 'b', 'k-b');
    const over = await runwaySubmit(sim.url, 'c [sim:success_after=1]', 'k-c');
    expect(over.status).toBe(200);
    const c = (await over.json()) as { id: string };
    expect([await check(c.id), await check(c.id)]).toEqual(['THROTTLED', 'THROTTLED']); // checks do not move it while both places are taken
    expect(await check(a.id)).toBe('SUCCEEDED'); // frees a place
    expect(await check(c.id)).toBe('PENDING');
    expect(await check(c.id)).toBe('SUCCEEDED');
    expect((await stats()).runway).toMatchObject({ maxInFlight: 3, inFlight: 1, rejectedAtCapacity: 0, throttledAtCapacity: 1, accepted: 3 });
  });

  it('creates tasks in bulk for load set-ups, each checkable with its scenario', async () => {
    const res = await fetch(`${sim.url}/_sim/tasks/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'runway', count: 3, scenario: 'never_finish' }),
    });
    expect(res.status).toBe(200);
    const { ids } = (await res.json()) as { ids: string[] };
    expect(new Set(ids).size).toBe(3);
    for (let i = 0; i < 3; i++) await fetch(`${sim.url}/runway/v1/tasks/${ids[0]}`, { headers: auth });
    const task = (await (await fetch(`${sim.url}/runway/v1/tasks/${ids[0]}`, { headers: auth })).json()) as { status: string };
    expect(task.status).toBe('RUNNING');
    expect((await fetch(`${sim.url}/_sim/tasks/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"provider":"runway"}' })).status).toBe(400);
  });

  it('records every submission with provider, key, task id and outcome', async () => {
    await runwaySubmit(sim.url, 'x [sim:rate_limit=1]', 'key-1');
    await runwaySubmit(sim.url, 'x [sim:rate_limit=1]', 'key-1');
    const subs = (await (await fetch(`${sim.url}/_sim/submissions?provider=runway`)).json()) as { submissionKey: string; outcome: string; taskId: string | null; at: string; httpStatus: number }[];
    expect(subs.map((s) => [s.submissionKey, s.outcome, s.httpStatus])).toEqual([['key-1', 'rejected', 429], ['key-1', 'accepted', 200]]);
    expect(subs[1].taskId).toEqual(expect.any(String));
    expect(Date.parse(subs[0].at)).not.toBeNaN();
  });

  it('reset clears submissions and stats', async () => {
    await runwaySubmit(sim.url, 'x', 'k');
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect(await (await fetch(`${sim.url}/_sim/submissions`)).json()).toEqual([]);
    expect(await (await fetch(`${sim.url}/_sim/stats`)).json()).toEqual({});
  });
});

describe('provider-sim wall clock mode', () => {
  it('advances tasks by elapsed time instead of checks', async () => {
    const sim = await startProviderSim({ port: 0, clock: 'wall', tickMs: 40 });
    try {
      const { id } = (await (await runwaySubmit(sim.url, 'x [sim:success_after=2]', 'w')).json()) as { id: string };
      await new Promise((r) => setTimeout(r, 150));
      const task = (await (await fetch(`${sim.url}/runway/v1/tasks/${id}`, { headers: auth })).json()) as { status: string };
      expect(task.status).toBe('SUCCEEDED');
    } finally {
      await sim.close();
    }
  });
});
