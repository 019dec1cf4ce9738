import { jobStreamId } from '@reelay/contracts';
import { DispatchHarness, eventTypes, waitUntil } from './testing/dispatch-harness';

jest.setTimeout(60_000);

const SEEDANCE = { model: 'seedance-1-0-pro', provider: 'seedance' };

describe('dispatch: submit, retries and failures (real PostgreSQL, NATS, provider-sim, dispatch process)', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({
      PROVIDERS_ENABLED: 'seedance',
      DISPATCH_RATE_LIMIT_BUDGET_MS: '2500',
      DISPATCH_SERVER_MAX_RETRIES: '2',
      DISPATCH_RETRY_BASE_MS: '200',
      CIRCUIT_FAILURE_THRESHOLD: '0',
    });
  });
  afterAll(() => h.close());

  const submissionsOf = async (jobId: string) => (await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  it('records the intent, submits once and moves the job to running with the provider task id', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'a lighthouse at dawn' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'running');

    const subs = await submissionsOf(jobId);
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ outcome: 'accepted', submissionKey: `${jobId}:1`, taskId: job.providerTaskId });
    expect(job.provider).toBe('seedance');
    expect(eventTypes(await h.events(jobId)).slice(3)).toEqual(['JobSubmissionIntended', 'JobProviderAccepted']);
    expect(await h.slots()).toEqual([{ job_id: jobId, provider: 'seedance' }]);

    await h.succeed(jobId);
    await waitForSlotRelease(h, jobId);
  });

  it('retries 429s with the same submission key, not before Retry-After, then succeeds', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'rain on a window [sim:rate_limit=2 retry_after=1]' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'running');

    const subs = await submissionsOf(jobId);
    expect(subs.map((s) => [s.outcome, s.httpStatus, s.submissionKey])).toEqual([
      ['rejected', 429, `${jobId}:1`],
      ['rejected', 429, `${jobId}:1`],
      ['accepted', expect.any(Number), `${jobId}:1`],
    ]);
    const events = await h.events(jobId);
    const retries = events.filter((e) => e.type === 'JobSubmissionRetryScheduled');
    expect(retries.map((e) => (e.data as { reason: string }).reason)).toEqual(['rate_limited', 'rate_limited']);
    const accepted = events.find((e) => e.type === 'JobProviderAccepted')!;
    expect(new Date(accepted.recordedAt).getTime()).toBeGreaterThanOrEqual(new Date((retries[1].data as { retryAt: string }).retryAt).getTime());
    expect(job.providerTaskId).toBe(subs[2].taskId);
  });

  it('fails with provider_rate_limited once the retry budget is spent, and frees the slot', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'traffic jam [sim:rate_limit=50 retry_after=1]' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');

    expect(job.errorCode).toBe('provider_rate_limited');
    expect((await submissionsOf(jobId)).every((s) => s.outcome === 'rejected')).toBe(true);
    expect((await submissionsOf(jobId)).length).toBeGreaterThanOrEqual(2);
    await waitForSlotRelease(h, jobId);
  });

  it('retries a burst of 5xx with backoff, then succeeds', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'a stormy sea [sim:server_error=2]' });
    await h.waitForJob(jobId, (j) => j.status === 'running');

    const subs = await submissionsOf(jobId);
    expect(subs.map((s) => s.outcome)).toEqual(['rejected', 'rejected', 'accepted']);
    const reasons = (await h.events(jobId)).filter((e) => e.type === 'JobSubmissionRetryScheduled').map((e) => (e.data as { reason: string }).reason);
    expect(reasons).toEqual(['provider_error', 'provider_error']);
  });

  it('fails with unknown_provider_error when the 5xx persist past the retry bound', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'a desert road [sim:server_error=50]' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');

    expect(job.errorCode).toBe('unknown_provider_error');
    expect(await submissionsOf(jobId)).toHaveLength(3); // the first try and two retries
    const failed = (await h.events(jobId)).at(-1)!;
    expect(failed.data).toMatchObject({ errorCode: 'unknown_provider_error', message: null });
    await waitForSlotRelease(h, jobId);
  });

  it('fails with moderation_rejected when the provider refuses the prompt at submit', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'something [sim:moderation_submit]' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
    expect(job.errorCode).toBe('moderation_rejected');
    expect(await submissionsOf(jobId)).toHaveLength(1);
  });

  it('leaves a job canceled before dispatch alone', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'never mind [sim:rate_limit=1 retry_after=2]' });
    await h.waitForJob(jobId, (j) => j.intent !== null);
    await h.cancel(jobId);
    await waitForSlotRelease(h, jobId);
    // The pending retry comes due and finds the job canceled: nothing more is submitted.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await submissionsOf(jobId)).filter((s) => s.outcome === 'accepted')).toHaveLength(0);
    expect((await h.job(jobId)).status).toBe('canceled');
  });

  it('cancels the task a provider made for an acceptance the log refuses (another answer was recorded first)', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'two herons [sim:slow=1500]' });
    await h.waitForJob(jobId, (j) => j.intent !== null);
    // While the submit is under way, the log records another task: this delivery's task is nobody's.
    const version = (await h.events(jobId)).length;
    await h.store.append(jobStreamId(jobId), version, [{ type: 'JobProviderAccepted', data: { provider: 'seedance', providerTaskId: 'cgt-recorded-first', at: new Date().toISOString() } }]);
    const made = async () => (await (await fetch(`${h.sim.url}/_sim/tasks`)).json() as { submissionKey: string | null; phase: string }[]).find((t) => t.submissionKey?.startsWith(`${jobId}:`));
    await waitUntil(async () => (await made())?.phase === 'canceled', 15_000, 'the unrecorded task canceled at the provider', () => h.logs());
    expect((await h.job(jobId)).providerTaskId).toBe('cgt-recorded-first');
    expect(await submissionsOf(jobId)).toHaveLength(1);
    await h.succeed(jobId);
    await waitForSlotRelease(h, jobId);
  });
});

async function waitForSlotRelease(h: DispatchHarness, jobId: string) {
  await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, `slot of ${jobId} released`, () => h.logs());
}

describe('dispatch: a job canceled while a retry of its submit is pending (real processes)', () => {
  const h = new DispatchHarness();

  beforeAll(async () => {
    await h.start();
    await h.startDispatch({ PROVIDERS_ENABLED: 'seedance', DISPATCH_RATE_LIMIT_BUDGET_MS: '300000', CIRCUIT_FAILURE_THRESHOLD: '0' });
  });
  afterAll(() => h.close());

  it('gives its capacity slot back a few seconds after the cancel, not when the retry would have come due', async () => {
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'a long wait [sim:rate_limit=1 retry_after=120]' });
    await waitUntil(async () => eventTypes(await h.events(jobId)).includes('JobSubmissionRetryScheduled'), 15_000, 'retry scheduled', () => h.logs());
    expect(await h.slots()).toEqual([{ job_id: jobId, provider: 'seedance' }]);
    await h.cancel(jobId);
    // The retry is due in 120 s; the slot goes once the refused try is 5 s old (the listing lag).
    await waitUntil(async () => (await h.slots()).length === 0, 15_000, `slot of ${jobId} released`, () => h.logs());
    expect((await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`)).map((s) => s.outcome)).toEqual(['rejected']);
    expect((await h.job(jobId)).status).toBe('canceled');
  });
});
