import { createAdapters } from '@reelay/providers';
import { DispatchHarness, waitUntil } from './testing/dispatch-harness';

jest.setTimeout(120_000);

/**
 * Capacity is per provider account and shared by replicas: with a limit of 3 at the sim and in
 * dispatch, 20 jobs through two dispatch processes never put more than 3 tasks in flight at the
 * sim, and every job is submitted as slots free up. The test plays polling: it checks running
 * tasks at the sim until they finish and records their success, which releases their slots.
 */
describe('dispatch: provider capacity shared by two replicas', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start({ SIM_MAX_IN_FLIGHT: '3' });
    const env = { PROVIDERS_ENABLED: 'seedance', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '3', DISPATCH_CAPACITY_WAIT_MS: '150', CONSUMER_CONCURRENCY: '8' };
    await Promise.all([h.startDispatch(env), h.startDispatch(env)]);
  });
  afterAll(() => h.close());

  it('never exceeds the limit at the provider and submits all 20 jobs', async () => {
    const seedance = createAdapters({ PROVIDER_SIM_URL: h.sim.url, PROVIDERS_ENABLED: 'seedance' }).get('seedance')!;
    const jobIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: `capacity job ${i}` })),
    );
    const finished = new Set<string>();
    let maxSlots = 0;
    await waitUntil(
      async () => {
        maxSlots = Math.max(maxSlots, (await h.slots()).length);
        for (const jobId of jobIds) {
          if (finished.has(jobId)) continue;
          const job = await h.job(jobId);
          if (job.status !== 'running') continue;
          const check = await seedance.check(job.providerTaskId!);
          if (check.state !== 'succeeded') continue;
          await h.succeed(jobId);
          finished.add(jobId);
        }
        return finished.size === jobIds.length;
      },
      90_000,
      'all 20 jobs submitted and finished',
      () => `${finished.size} finished\n${h.logs()}`,
    );

    const stats = (await h.stats()).seedance;
    expect(stats.accepted).toBe(20);
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(stats.rejectedAtCapacity).toBe(0);
    expect(maxSlots).toBeLessThanOrEqual(3);
    const keys = (await h.submissions('seedance')).map((s) => s.submissionKey);
    expect(new Set(keys).size).toBe(20);
    await waitUntil(async () => (await h.slots()).length === 0, 10_000, 'every slot released');
  });
});

/**
 * wan-2.2 is offered by replicate (primary) and fal. With replicate's one slot taken, the next job
 * goes to fal instead of waiting while fal is idle; with both full, a job waits (no intent) until a
 * slot frees, and then takes it.
 */
describe('dispatch: load beyond the primary provider capacity', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', PROVIDER_MAX_IN_FLIGHT_REPLICATE: '1', PROVIDER_MAX_IN_FLIGHT_FAL: '1', DISPATCH_CAPACITY_WAIT_MS: '150' });
  });
  afterAll(() => h.close());

  it('goes to the alternate provider while the primary is full, and waits only when both are', async () => {
    const job = (prompt: string) => h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt });
    const first = await job('a fox in the snow');
    expect((await h.waitForJob(first, (j) => j.status === 'running')).provider).toBe('replicate');
    const second = await job('city lights');
    expect((await h.waitForJob(second, (j) => j.status === 'running')).provider).toBe('fal');

    const third = await job('a quiet lake');
    // Several capacity rounds (150 ms apart) pass with both providers full: nothing is submitted.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await h.job(third)).toMatchObject({ status: 'validating', intent: null });

    await h.succeed(first);
    expect((await h.waitForJob(third, (j) => j.status === 'running')).provider).toBe('replicate');
    expect((await h.submissions()).filter((s) => s.outcome === 'accepted').map((s) => s.provider).sort()).toEqual(['fal', 'replicate', 'replicate']);
  });
});

/**
 * With a fair share of 2 slots per user, one user's burst of 4 jobs takes 2 of the provider's 10
 * slots and waits for the rest, while another user's job goes at once; as one of the first user's
 * jobs ends, the next of theirs takes its place.
 */
describe('dispatch: fair share of capacity between users', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'seedance', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '10', DISPATCH_MAX_IN_FLIGHT_PER_USER: '2', DISPATCH_CAPACITY_WAIT_MS: '150' });
  });
  afterAll(() => h.close());

  it("holds one user's jobs beyond their share while another user's job goes ahead", async () => {
    const job = (userId: string, prompt: string) => h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt, userId });
    const burst = await Promise.all([1, 2, 3, 4].map((i) => job('user-burst', `burst ${i}`)));
    const other = await job('user-other', 'a single job');
    await h.waitForJob(other, (j) => j.status === 'running');
    await waitUntil(async () => (await Promise.all(burst.map((id) => h.job(id)))).filter((j) => j.status === 'running').length === 2, 20_000, 'two of the burst running');
    // Several capacity rounds pass: the other two stay waiting, with nothing sent for them.
    await new Promise((r) => setTimeout(r, 1500));
    const states = await Promise.all(burst.map((id) => h.job(id)));
    const waiting = burst.filter((_, i) => states[i].status === 'validating');
    expect(waiting).toHaveLength(2);
    for (const id of waiting) expect(await h.job(id)).toMatchObject({ intent: null });
    expect((await h.slots()).length).toBe(3);

    await h.succeed(burst.find((_, i) => states[i].status === 'running')!);
    await waitUntil(async () => (await Promise.all(waiting.map((id) => h.job(id)))).filter((j) => j.status === 'running').length === 1, 20_000, 'one more of the burst running');
  });
});

/**
 * A full provider's freed slot goes to the job that has waited longest. Each waiting job asks again
 * every 75–225 ms (jittered), so without the line whichever asked first after a release would get
 * it: three releases in submit order would come about one time in 24.
 */
describe('dispatch: the waiting line of a full provider', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'seedance', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '1', DISPATCH_CAPACITY_WAIT_MS: '150' });
  });
  afterAll(() => h.close());

  it('starts the waiting jobs in the order they were submitted as the slot frees up', async () => {
    const holder = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'the slot holder [sim:queue=100]' });
    await h.waitForJob(holder, (j) => j.status === 'running');
    const waiting: string[] = [];
    for (let i = 0; i < 4; i++) {
      waiting.push(await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: `in line ${i} [sim:queue=100]` }));
      await new Promise((r) => setTimeout(r, 20)); // distinct submit times
    }
    // Every one of them has asked and been refused at least once: all are in line.
    await waitUntil(async () => Number((await h.dataSource.query(`SELECT count(*) AS n FROM provider_waits`))[0].n) === 4, 10_000, 'four jobs in line');
    const started: string[] = [];
    let running = holder;
    for (let turn = 0; turn < 3; turn++) {
      await h.succeed(running);
      await waitUntil(async () => (await Promise.all(waiting.map((id) => h.job(id)))).filter((j) => j.status !== 'validating').length === turn + 1, 15_000, `job ${turn + 1} of the line started`);
      running = (await Promise.all(waiting.map(async (id) => [id, (await h.job(id)).status] as const))).find(([id, status]) => status === 'running' && !started.includes(id))![0];
      started.push(running);
    }
    expect(started).toEqual(waiting.slice(0, 3));
  });
});

/**
 * With DISPATCH_CAPACITY_WAIT_MAX_MS set, a job that finds no slot for that long after validation
 * fails as provider_rate_limited (nothing was sent anywhere) instead of waiting for hours.
 */
describe('dispatch: the longest wait for a capacity slot', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'seedance', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '1', DISPATCH_CAPACITY_WAIT_MS: '150', DISPATCH_CAPACITY_WAIT_MAX_MS: '1500' });
  });
  afterAll(() => h.close());

  it('fails a job still without a slot past it, sent nowhere, while the job holding the slot runs on', async () => {
    const holder = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'the slot holder [sim:queue=100]' });
    await h.waitForJob(holder, (j) => j.status === 'running');
    const waiting = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'no room for me' });
    const failed = await h.waitForJob(waiting, (j) => j.status === 'failed', 15_000);
    expect(failed).toMatchObject({ errorCode: 'provider_rate_limited', intent: null, providerTaskMayExist: false });
    expect((await h.submissions('seedance')).map((s) => s.submissionKey?.split(':')[0])).toEqual([holder]);
    expect((await h.slots()).map((s) => s.job_id)).toEqual([holder]);
  });
});

/**
 * PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER> caps the submits both replicas send a provider: at 60 a
 * minute a burst of 6 goes at once and the rest follow at 0.9 a second, each job waiting without an
 * intent until its turn, and every job is submitted once.
 */
describe('dispatch: submits per minute shared by two replicas', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    const env = { PROVIDERS_ENABLED: 'seedance', PROVIDER_MAX_SUBMITS_PER_MINUTE_SEEDANCE: '60', CONSUMER_CONCURRENCY: '8' };
    await Promise.all([h.startDispatch(env), h.startDispatch(env)]);
  });
  afterAll(() => h.close());

  it('sends the burst at once and the rest no faster than the refill, each job once', async () => {
    const jobIds = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: `rate capped job ${i} [sim:queue=100]` })),
    );
    await waitUntil(async () => (await Promise.all(jobIds.map((id) => h.job(id)))).every((j) => j.status === 'running'), 40_000, 'all 10 jobs running', () => h.logs());
    const submits = await h.submissions('seedance');
    expect(new Set(submits.map((s) => s.submissionKey)).size).toBe(10);
    expect(submits).toHaveLength(10);
    const times = submits.map((s) => Date.parse(s.at)).sort((a, b) => a - b);
    // Lower bounds only (a slow machine only spreads them further): 6 of the burst, then 4 refills at
    // 0.9 a second, so the last submit comes at least 4 / 0.9 s after the first.
    expect(times[9]! - times[0]!).toBeGreaterThanOrEqual(4_000);
    // No more than the burst plus what refilled within any 2 s window.
    for (let i = 0; i < times.length; i++) {
      const within = times.filter((t) => t >= times[i]! && t < times[i]! + 2_000).length;
      expect(within).toBeLessThanOrEqual(6 + 2);
    }
  });
});
