import { DispatchHarness } from './testing/dispatch-harness';

jest.setTimeout(90_000);

/**
 * wan-2.2 is offered by replicate (primary) and fal. With replicate answering 503 to everything,
 * its circuit opens after two failures and new jobs go to fal; a job that was already submitted to
 * replicate (which might have accepted it) is never re-submitted to fal.
 */
describe('dispatch: failover when the primary provider is failing', () => {
  const h = new DispatchHarness();
  let primary: { url: string; keys: string[] };

  beforeAll(async () => {
    await h.start();
    primary = await h.failingProvider();
    await h.startDispatch({
      PROVIDERS_ENABLED: 'replicate,fal',
      REPLICATE_BASE_URL: primary.url,
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_COOLDOWN_MS: '600000',
      DISPATCH_SERVER_MAX_RETRIES: '1',
      DISPATCH_RETRY_BASE_MS: '100',
    });
  });
  afterAll(() => h.close());

  it('sends new jobs to the second provider once the primary circuit is open, and no job to both', async () => {
    const first = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a fox in the snow' });
    const failed = await h.waitForJob(first, (j) => j.status === 'failed');
    expect(failed.errorCode).toBe('unknown_provider_error');
    expect(primary.keys).toEqual([`${first}:1`, `${first}:1`]);

    const later = await Promise.all([1, 2, 3].map((i) => h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: `city lights ${i}` })));
    for (const jobId of later) {
      const job = await h.waitForJob(jobId, (j) => j.status === 'running');
      expect(job.provider).toBe('fal');
      expect(job.intent).toMatchObject({ provider: 'fal', attempt: 1 });
    }

    const jobOf = (key: string | null) => key?.split(':')[0];
    const atSim = await h.submissions();
    expect(atSim.filter((s) => s.outcome === 'accepted').map((s) => s.provider)).toEqual(['fal', 'fal', 'fal']);
    expect(atSim.map((s) => jobOf(s.submissionKey)).sort()).toEqual([...later].sort());
    const atPrimary = new Set(primary.keys.map(jobOf));
    expect(atSim.filter((s) => atPrimary.has(jobOf(s.submissionKey)))).toEqual([]);
    expect(primary.keys.every((k) => k.startsWith(`${first}:`))).toBe(true);

    // An operator sees which circuit is open.
    const metrics = await (await fetch(`${h.dispatchers[0].url}/metrics`)).text();
    const gauge = (provider: string) => new RegExp(`^reelay_provider_circuit_open\\{[^}]*provider="${provider}"[^}]*\\} (\\d)$`, 'm').exec(metrics)?.[1];
    expect([gauge('replicate'), gauge('fal')]).toEqual(['1', '0']);
  });
});

/**
 * A primary that refuses our account (a revoked key answers 401 to everything): every job would
 * meet the same answer, so the circuit opens and the next jobs go to the second provider.
 */
describe('dispatch: failover when the primary provider refuses our key', () => {
  const h = new DispatchHarness();
  let primary: { url: string; keys: string[] };

  beforeAll(async () => {
    await h.start();
    primary = await h.failingProvider(401, { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 });
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', REPLICATE_BASE_URL: primary.url, CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_COOLDOWN_MS: '600000' });
  });
  afterAll(() => h.close());

  it('fails the jobs the primary refused and sends the next ones to the second provider', async () => {
    for (const prompt of ['refused one', 'refused two']) {
      const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt });
      expect((await h.waitForJob(jobId, (j) => j.status === 'failed')).errorCode).toBe('unknown_provider_error');
    }
    expect(primary.keys).toHaveLength(2);
    const next = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'after the circuit opened' });
    expect((await h.waitForJob(next, (j) => j.status === 'running')).provider).toBe('fal');
    expect(primary.keys).toHaveLength(2);
  });
});
