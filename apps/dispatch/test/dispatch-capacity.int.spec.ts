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
