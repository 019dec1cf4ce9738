import { DispatchHarness } from './testing/dispatch-harness';

jest.setTimeout(90_000);

/**
 * wan-2.2 is offered by replicate (primary) and fal. With replicate answering 503 to everything, a
 * job it refused through its retries goes on to fal, and once its circuit opens (two failures) new
 * jobs go to fal first. Every try at replicate was answered, so it holds no task of any of them.
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

  it('sends a job the primary refused through its retries on to the second provider, and new jobs there once the primary circuit is open', async () => {
    const first = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a fox in the snow' });
    const moved = await h.waitForJob(first, (j) => j.status === 'running');
    expect(moved.provider).toBe('fal');
    expect(moved.intent).toMatchObject({ provider: 'fal', attempt: 3, submissionKey: `${first}:3` });
    expect(await h.slots()).toEqual([expect.objectContaining({ job_id: first, provider: 'fal' })]); // the slot moved with it
    expect(primary.keys).toEqual([`${first}:1`, `${first}:1`]);

    const later = await Promise.all([1, 2, 3].map((i) => h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: `city lights ${i}` })));
    for (const jobId of later) {
      const job = await h.waitForJob(jobId, (j) => j.status === 'running');
      expect(job.provider).toBe('fal');
      expect(job.intent).toMatchObject({ provider: 'fal', attempt: 1 });
    }

    const jobOf = (key: string | null) => key?.split(':')[0];
    const atSim = await h.submissions();
    expect(atSim.filter((s) => s.outcome === 'accepted').map((s) => s.provider)).toEqual(['fal', 'fal', 'fal', 'fal']);
    expect(atSim.map((s) => jobOf(s.submissionKey)).sort()).toEqual([first, ...later].sort());
    expect(primary.keys.every((k) => k.startsWith(`${first}:`))).toBe(true);

    // An operator sees which circuit is open.
    const metrics = await (await fetch(`${h.dispatchers[0].url}/metrics`)).text();
    const gauge = (provider: string) => new RegExp(`^reelay_provider_circuit_open\\{[^}]*provider="${provider}"[^}]*\\} (\\d)$`, 'm').exec(metrics)?.[1];
    expect([gauge('replicate'), gauge('fal')]).toEqual(['1', '0']);
  });
});

/**
 * A primary that refuses our account (a revoked key answers 401 to everything): the jobs it refuses
 * go on to the second provider, and once its circuit opens the next jobs go there first.
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

  it('sends the jobs the primary refused on to the second provider, and the next ones straight there', async () => {
    for (const prompt of ['refused one', 'refused two']) {
      const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt });
      expect(await h.waitForJob(jobId, (j) => j.status === 'running')).toMatchObject({ provider: 'fal', intent: { provider: 'fal', attempt: 2 } });
    }
    expect(primary.keys).toHaveLength(2);
    const next = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'after the circuit opened' });
    expect(await h.waitForJob(next, (j) => j.status === 'running')).toMatchObject({ provider: 'fal', intent: { provider: 'fal', attempt: 1 } });
    expect(primary.keys).toHaveLength(2);
  });
});

/** A primary that no longer knows the model id (Replicate answers 404 for a removed version). */
describe('dispatch: failover when the primary provider does not know the model', () => {
  const h = new DispatchHarness();
  let primary: { url: string; keys: string[] };

  beforeAll(async () => {
    await h.start();
    primary = await h.failingProvider(404, { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 });
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', REPLICATE_BASE_URL: primary.url });
  });
  afterAll(() => h.close());

  it('sends the job on to the second provider of its model instead of failing it', async () => {
    const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a heron at dawn' });
    expect(await h.waitForJob(jobId, (j) => j.status === 'running')).toMatchObject({ provider: 'fal' });
    expect(primary.keys).toEqual([`${jobId}:1`]);
    const refusal = (await h.events(jobId)).find((e) => e.type === 'JobSubmissionRetryScheduled');
    expect(refusal?.data).toMatchObject({ provider: 'replicate', nextProvider: 'fal' });
  });

  /** A job replicate refused, the refusal naming fal, with no try at fal yet (as a process that died in between leaves it). */
  const sentOnToFal = (prompt: string) =>
    h.createValidatedJob({
      model: 'wan-2.2',
      provider: 'replicate',
      prompt,
      then: (id, at) => [
        { type: 'JobSubmissionIntended', data: { provider: 'replicate', attempt: 1, submissionKey: `${id}:1`, at } },
        { type: 'JobSubmissionRetryScheduled', data: { provider: 'replicate', attempt: 1, reason: 'provider_error', retryAt: at, nextProvider: 'fal', at } },
      ],
    });

  it('given a refusal recorded with its next provider and no try there yet (the process died in between), then the next delivery goes there, not back', async () => {
    const jobId = await sentOnToFal('a heron at noon');
    expect(await h.waitForJob(jobId, (j) => j.status === 'running')).toMatchObject({ provider: 'fal', intent: { provider: 'fal', attempt: 2, submissionKey: `${jobId}:2` } });
    expect(primary.keys.filter((k) => k.startsWith(jobId))).toEqual([]);
    expect(await h.slots()).toContainEqual(expect.objectContaining({ job_id: jobId, provider: 'fal' }));
  });

  it('given the next provider named by the refusal failing since (its circuit open, a probe under way), then the job waits for it, and goes there once it is healthy', async () => {
    await h.dataSource.query(`INSERT INTO provider_circuits (provider, consecutive_failures, first_failure_at, opened_at, probe_at) VALUES ('fal', 5, now(), now(), now())`);
    // Past the second a replica goes by what it last read of a circuit (fal's closed one, from the test before).
    await new Promise((r) => setTimeout(r, 1_500));
    try {
      const jobId = await sentOnToFal('a heron at midnight');
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await h.submissions('fal')).filter((s) => s.submissionKey?.startsWith(jobId))).toEqual([]);
      expect((await h.job(jobId)).status).toBe('validating');
      await h.dataSource.query(`DELETE FROM provider_circuits WHERE provider = 'fal'`);
      expect(await h.waitForJob(jobId, (j) => j.status === 'running')).toMatchObject({ provider: 'fal', intent: { provider: 'fal', attempt: 2 } });
      expect(primary.keys.filter((k) => k.startsWith(jobId))).toEqual([]);
    } finally {
      await h.dataSource.query(`DELETE FROM provider_circuits WHERE provider = 'fal'`);
    }
  });
});

/** A proxy in front of the primary that lost the answer to a create (502): the task may exist there. */
describe('dispatch: no failover when the primary may have made the task', () => {
  const h = new DispatchHarness();
  let primary: { url: string; keys: string[] };

  beforeAll(async () => {
    await h.start();
    primary = await h.failingProvider(502, '<html>502 Bad Gateway</html>');
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', REPLICATE_BASE_URL: primary.url });
  });
  afterAll(() => h.close());

  it('fails the job rather than send it to the second provider too, and holds its slot', async () => {
    const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a lighthouse in fog' });
    expect(await h.waitForJob(jobId, (j) => j.status === 'failed')).toMatchObject({ errorCode: 'unknown_provider_error', providerTaskMayExist: true });
    expect(primary.keys).toEqual([`${jobId}:1`]);
    expect(await h.submissions()).toEqual([]);
    expect(await h.slots()).toEqual([expect.objectContaining({ job_id: jobId, provider: 'replicate' })]);
  });
});

/**
 * A failover goes through the second provider's submit cap like any submit there: with fal's
 * bucket empty, the job the primary refused is handed back until fal's next token, and that
 * delivery goes to fal (named in the log with the refusal), not to the primary again.
 */
describe("dispatch: a failover waits for its turn under the second provider's submit cap", () => {
  const h = new DispatchHarness();
  let primary: { url: string; keys: string[] };

  beforeAll(async () => {
    await h.start();
    primary = await h.failingProvider(404, { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 });
    // 12 a minute: a burst of 1, then one every 60 / 11 s.
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', REPLICATE_BASE_URL: primary.url, PROVIDER_MAX_SUBMITS_PER_MINUTE_FAL: '12' });
  });
  afterAll(() => h.close());

  it('sends the refused job to fal no sooner than fal has a token', async () => {
    // fal's bucket just emptied (as by a submit a moment ago).
    await h.dataSource.query(`INSERT INTO provider_submit_budgets (provider, tokens, updated_at) VALUES ('fal', 0, clock_timestamp())`);
    const emptiedAt = Date.now();
    const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a heron at dusk' });
    expect(await h.waitForJob(jobId, (j) => j.status === 'running', 30_000)).toMatchObject({ provider: 'fal', intent: { provider: 'fal', attempt: 2 } });
    expect(primary.keys).toEqual([`${jobId}:1`]);
    const [atFal] = (await h.submissions('fal')).map((s) => Date.parse(s.at));
    // A lower bound only: the next token is due 60 / 11 s after the bucket emptied.
    expect(atFal! - emptiedAt).toBeGreaterThanOrEqual(5_000);
  });
});

/** A half-open probe handed to a job that fails before it is sent says nothing of the provider: it goes back. */
describe('dispatch: a half-open probe its job did not use', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'replicate,fal', CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_COOLDOWN_MS: '200' });
  });
  afterAll(() => h.close());

  it('goes back when the job fails before its submit (its reference image is gone), so the next job may probe at once', async () => {
    await h.dataSource.query(`INSERT INTO provider_circuits (provider, consecutive_failures, first_failure_at, opened_at) VALUES ('replicate', 2, now(), now() - interval '1 second')`);
    const jobId = await h.createValidatedJob({ model: 'wan-2.2', provider: 'replicate', prompt: 'a heron in fog', assetId: 'asset_gone0000000001' });
    expect(await h.waitForJob(jobId, (j) => j.status === 'failed')).toMatchObject({ errorCode: 'asset_fetch_failed' });
    const [circuit] = await h.dataSource.query(`SELECT opened_at IS NOT NULL AS open, probe_at FROM provider_circuits WHERE provider = 'replicate'`);
    expect(circuit).toEqual({ open: true, probe_at: null });
    expect(await h.submissions()).toEqual([]);
  });
});
