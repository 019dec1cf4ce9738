import { DispatchHarness, waitUntil } from './testing/dispatch-harness';

jest.setTimeout(60_000);

describe('dispatch: a job whose model its provider no longer serves (real PostgreSQL, NATS, provider-sim, dispatch process)', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({
      PROVIDERS_ENABLED: 'openai,veo',
      // OpenAI with a key of its own is a real account as far as dispatch knows (here it points at the
      // simulator's OpenAI routes), so Sora's announced shutdown applies; Veo stays simulated.
      OPENAI_API_KEY: 'sk-test-retired',
      OPENAI_BASE_URL: `${h.sim.url}/openai/v1`,
      CIRCUIT_FAILURE_THRESHOLD: '0',
    });
  });
  afterAll(() => h.close());

  const submissionsOf = async (provider: string, jobId: string) => (await h.submissions(provider)).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  // A job intake accepted while the model was still offered (its gateway and intake not yet restarted
  // after the day, or a job queued before it) and that dispatch meets after the day.
  it('fails a job whose model was retired after it was accepted with a message saying so, without calling the provider', async () => {
    const jobId = await h.createValidatedJob({ model: 'sora-2', provider: 'openai', prompt: 'a kite over the dunes', durationSeconds: 8 });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');

    expect(job.errorCode).toBe('validation_failed');
    expect(job.failureMessage).toBe('sora-2 is no longer available: its provider stopped serving it on 2026-09-24. Choose another model (GET /v1/models).');
    expect(await submissionsOf('openai', jobId)).toEqual([]);
    expect(h.logs()).toMatch(/sora-2 is no longer offered: its provider stopped serving its model id on 2026-09-24/);
  });

  it('fails a job pinned to the provider by a refused try, when the retry finds the model retired, without sending it again', async () => {
    const jobId = await h.createValidatedJob({
      model: 'sora-2',
      provider: 'openai',
      prompt: 'a kite, second try',
      durationSeconds: 8,
      then: (id, at) => [
        { type: 'JobSubmissionIntended', data: { provider: 'openai', attempt: 1, submissionKey: `${id}:1`, at } },
        { type: 'JobSubmissionRetryScheduled', data: { provider: 'openai', attempt: 1, reason: 'rate_limited', retryAt: at, at } },
      ],
    });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
    expect(job.errorCode).toBe('validation_failed');
    expect(job.failureMessage).toMatch(/^sora-2 is no longer available: its provider stopped serving it on 2026-09-24\./);
    expect(await submissionsOf('openai', jobId)).toEqual([]);
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, `slot of ${jobId} released`, () => h.logs());
  });

  it("fails a job with that message when the provider's own answer says the model is gone, and frees the slot", async () => {
    const jobId = await h.createValidatedJob({ model: 'veo-3.1', provider: 'veo', prompt: 'a lantern festival [sim:reject=404]', durationSeconds: 8 });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');

    expect(job.errorCode).toBe('validation_failed');
    expect(job.failureMessage).toBe('veo-3.1 is no longer available: its provider stopped serving it. Choose another model (GET /v1/models).');
    expect((await submissionsOf('veo', jobId)).map((s) => s.outcome)).toEqual(['rejected']);
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, `slot of ${jobId} released`, () => h.logs());
  });
});
