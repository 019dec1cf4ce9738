import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobStreamId } from '@reelay/contracts';
import { toPublicJob } from '@reelay/job-domain';
import { TEST_DATABASE_ADMIN_URL } from '@reelay/testing';
import { Client } from 'pg';
import { DispatchHarness, eventTypes, waitUntil, writeAsset } from './testing/dispatch-harness';

jest.setTimeout(90_000);

/**
 * kill -9 between the provider accepting a job and the log recording it: the intent is in the log,
 * the task id is not. After a restart dispatch must find the task at the provider (Ark lists
 * tasks with the safety_identifier reelay sets) instead of submitting a second time.
 */
describe('dispatch: crash after the provider accepted, before the log recorded it', () => {
  const h = new DispatchHarness();
  const env = { PROVIDERS_ENABLED: 'seedance', SEEDANCE_CORRELATION: 'safety_identifier', DISPATCH_ACK_WAIT_MS: '2000' };

  beforeAll(() => h.start());
  afterEach(() => h.stopDispatchers());
  afterAll(() => h.close());

  /** Runs a dispatch that kills itself right after the provider accepted the job's submit, before the log records it; the job's id once it has died. */
  async function crashedAfterSubmit(dispatchEnv: Record<string, string>, job: Parameters<DispatchHarness['createValidatedJob']>[0]): Promise<string> {
    const crashing = await h.startDispatch({ ...dispatchEnv, DISPATCH_CRASH_AFTER_SUBMIT: '1' });
    const exited = new Promise<NodeJS.Signals | null>((r) => crashing.child.once('exit', (_code, signal) => r(signal)));
    const jobId = await h.createValidatedJob(job);
    expect(await exited).toBe('SIGKILL');
    return jobId;
  }

  /** As a dispatch that died during the submit leaves a job: its slot taken and the intent recorded, no answer; then the user cancels. */
  async function canceledDuringSubmit(prompt: string, intendedAgoMs = 0): Promise<string> {
    const jobId = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt });
    await h.dataSource.query(`INSERT INTO provider_slots (job_id, provider) VALUES ($1, 'seedance')`, [jobId]);
    await h.store.append(jobStreamId(jobId), 'any', [{ type: 'JobSubmissionIntended', data: { provider: 'seedance', attempt: 1, submissionKey: `${jobId}:1`, at: new Date(Date.now() - intendedAgoMs).toISOString() } }]);
    await h.cancel(jobId);
    return jobId;
  }

  it('retries 429s at a provider it can search without looking for a task first: no refused try made one', async () => {
    const lists = async () => ((await (await fetch(`${h.sim.url}/_sim/stats`)).json()) as Record<string, { lists: number }>).seedance?.lists ?? 0;
    const dispatch = await h.startDispatch(env);
    const before = await lists();
    const jobId = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'rain on a window [sim:rate_limit=2 retry_after=1]' });
    await h.waitForJob(jobId, (j) => j.status === 'running', 30_000);
    const mine = (await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
    expect(mine.map((s) => [s.submissionKey, s.outcome])).toEqual([[`${jobId}:1`, 'rejected'], [`${jobId}:1`, 'rejected'], [`${jobId}:1`, 'accepted']]);
    expect(await lists()).toBe(before);
    // Finished, so its slot is free again for the tests after this one, which count slots.
    await h.succeed(jobId);
    await waitUntil(async () => (await h.slots()).every((s) => s.job_id !== jobId), 20_000, 'the slot released');
    await dispatch.kill('SIGTERM');
  });

  it('reconciles with the provider after a restart: running, with exactly one submission at the sim', async () => {
    const jobId = await crashedAfterSubmit(env, { model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a paper boat in a gutter' });
    const accepted = (await h.submissions('seedance')).filter((s) => s.submissionKey === `${jobId}:1` && s.outcome === 'accepted');
    expect(accepted).toHaveLength(1);
    const before = await h.job(jobId);
    expect(before.status).toBe('validating');
    expect(before.intent).toMatchObject({ provider: 'seedance', submissionKey: `${jobId}:1` });
    expect(before.providerTaskId).toBeNull();

    const restarted = await h.startDispatch(env);
    const job = await h.waitForJob(jobId, (j) => j.status === 'running', 30_000);

    expect(job.providerTaskId).toBe(accepted[0].taskId);
    expect((await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toHaveLength(1);
    expect(eventTypes(await h.events(jobId)).slice(3)).toEqual(['JobSubmissionIntended', 'JobProviderAccepted']);
    await waitUntil(async () => (await h.slots()).length === 1, 5_000, 'slot still held');
    await restarted.kill('SIGTERM');
  });

  it('records the task found by its key when a cancel won while the acceptance was unrecorded, and holds its slot until the task ends', async () => {
    const jobId = await crashedAfterSubmit(env, { model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a boat that never sails [sim:queue=50]' });
    const [task] = (await h.submissions('seedance')).filter((s) => s.submissionKey === `${jobId}:1` && s.outcome === 'accepted');
    // The user cancels before dispatch is back (intake appends JobCanceled).
    await h.cancel(jobId);

    const restarted = await h.startDispatch(env);
    // Recorded for polling, which stops the task (or waits it out) and then records its end.
    await waitUntil(async () => eventTypes(await h.events(jobId)).includes('JobProviderAcceptedAfterCancel'), 20_000, 'the found task recorded');
    expect(await h.job(jobId)).toMatchObject({ status: 'canceled', providerTaskId: task.taskId, providerTaskOpen: true });
    // JobCanceled reached the slot release too, which must not free the slot of a task that may be generating.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);

    await h.store.append(jobStreamId(jobId), 'any', [{ type: 'JobProviderTaskEnded', data: { reason: 'canceled_at_provider', at: new Date().toISOString() } }]);
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, 'the slot freed at the task end');
    expect((await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toHaveLength(1);
    await restarted.kill('SIGTERM');
  });

  it('looks up, records and holds the task of a submit that timed out while the user canceled (the task was made all the same)', async () => {
    // Ark takes 1 s to answer the create and makes the task all the same; dispatch gives up after 300 ms.
    const dispatch = await h.startDispatch({ ...env, SEEDANCE_TIMEOUT_MS: '300' });
    const jobId = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a boat that never sails [sim:slow=1000,queue=50]' });
    await waitUntil(async () => (await h.job(jobId)).intent !== null, 10_000, 'the submit under way');
    await h.cancel(jobId);

    await waitUntil(async () => eventTypes(await h.events(jobId)).includes('JobProviderAcceptedAfterCancel'), 20_000, 'the task found and recorded');
    const [task] = (await h.submissions('seedance')).filter((s) => s.submissionKey === `${jobId}:1` && s.outcome === 'accepted');
    expect(await h.job(jobId)).toMatchObject({ status: 'canceled', providerTaskId: task.taskId, providerTaskOpen: true });
    expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
    await dispatch.kill('SIGTERM');
  });

  it('looks the task of a last try that timed out up once more before failing the job, and records it when the provider made it', async () => {
    // Ark takes 1 s to answer the create and makes the task all the same; dispatch gives up after 300 ms, with no retry left.
    const dispatch = await h.startDispatch({ ...env, SEEDANCE_TIMEOUT_MS: '300', DISPATCH_SERVER_MAX_RETRIES: '0' });
    const jobId = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a kite at noon [sim:slow=1000,queue=50]' });
    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);
    const made = (await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
    expect(made).toHaveLength(1);
    expect(job).toMatchObject({ status: 'running', providerTaskId: made[0].taskId });
    await dispatch.kill('SIGTERM');
  });

  it('frees the slot of a job canceled during a submit the provider has no task of, and records that nothing was started', async () => {
    // The intent was recorded and the process died before the call: the provider lists no task by our key.
    const jobId = await canceledDuringSubmit('a boat never sent');
    const dispatch = await h.startDispatch(env);
    try {
      await waitUntil(async () => eventTypes(await h.events(jobId)).includes('JobProviderTaskEnded'), 20_000, 'the lookup recorded');
      expect((await h.events(jobId)).find((e) => e.type === 'JobProviderTaskEnded')?.data).toMatchObject({ reason: 'not_started' });
      expect(toPublicJob(await h.job(jobId)).cancellation).toEqual({ providerTask: 'none' });
      await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, 'the slot freed');
      expect((await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toEqual([]);
    } finally {
      await dispatch.kill('SIGTERM');
    }
  });

  it('holds the slot of a job canceled during a submit whose task cannot be looked up (the provider failing): the task may be running', async () => {
    const failing = await h.failingProvider(503);
    const jobId = await canceledDuringSubmit('a lookup that fails');

    // A short hold, so the lookups end within the test (15 min by default) and later tests find the consumer caught up.
    const dispatch = await h.startDispatch({ ...env, SEEDANCE_BASE_URL: failing.url, SEEDANCE_API_KEY: 'ark-test-key', DISPATCH_UNTRACKED_TASK_HOLD_MS: '5000' });
    try {
      // Both deliveries (the submit's and the cancel's slot release) look the task up and fail; the submit's looks
      // again 10 s later, past the hold, and then stops.
      await h.waitHandled('dispatch-release-slots', 'JobCanceled', 'JobCanceled handled by the slot release', jobId);
      await waitUntil(() => h.handled('dispatch-submit', 'JobValidated', jobId), 30_000, 'the validated job handled once the hold was over');
      expect(failing.requests()).toBeGreaterThanOrEqual(2);
      expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
      expect(eventTypes(await h.events(jobId))).not.toContain('JobProviderAcceptedAfterCancel');
    } finally {
      await dispatch.kill('SIGTERM');
    }
  });

  it('counts the hold of a failing lookup from the cancel, not from an intent made long before it (a searchable provider\'s retries record none)', async () => {
    const failing = await h.failingProvider(503);
    // The intent a minute old, past the 20 s hold; the cancel just now.
    const jobId = await canceledDuringSubmit('a lookup that fails, long after the intent', 60_000);
    const dispatch = await h.startDispatch({ ...env, SEEDANCE_BASE_URL: failing.url, SEEDANCE_API_KEY: 'ark-test-key', DISPATCH_UNTRACKED_TASK_HOLD_MS: '20000' });
    try {
      await waitUntil(async () => failing.requests() >= 1, 15_000, 'the first lookup');
      // Within the hold counted from the cancel, the failed lookup is tried again 10 s later: the
      // validated job's delivery is not done yet.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await h.handled('dispatch-submit', 'JobValidated', jobId)).toBe(false);
      await waitUntil(() => h.handled('dispatch-submit', 'JobValidated', jobId), 45_000, 'the validated job handled once the hold was over');
      expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
    } finally {
      await dispatch.kill('SIGTERM');
    }
  });

  it('does not look again when the lookup was refused for good (our key): the slot stays held for the sweep', async () => {
    const refusing = await h.failingProvider(401, { error: { code: 'AuthenticationError', message: 'the API key is invalid' } });
    const jobId = await canceledDuringSubmit('a lookup refused');

    // The default hold (15 min): were the refusal looked up again, the submit's delivery would stay unacked for it.
    const dispatch = await h.startDispatch({ ...env, SEEDANCE_BASE_URL: refusing.url, SEEDANCE_API_KEY: 'ark-test-key' });
    try {
      await waitUntil(() => h.handled('dispatch-submit', 'JobValidated', jobId), 15_000, 'the validated job handled without looking again');
      expect(refusing.requests()).toBeGreaterThanOrEqual(1);
      expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
    } finally {
      await dispatch.kill('SIGTERM');
    }
  });

  it('looks again for the task of a job canceled during its submit when the lookup failed, and records it once the provider answers', async () => {
    const jobId = await crashedAfterSubmit(env, { model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a boat that never sails [sim:queue=50]' });
    const [task] = (await h.submissions('seedance')).filter((s) => s.submissionKey === `${jobId}:1` && s.outcome === 'accepted');
    await h.cancel(jobId);

    // Ark fails the first lookups (an outage), then answers as before.
    let failuresLeft = 2;
    const flaky = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', async () => {
        if (failuresLeft-- > 0) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"ServiceUnavailable"}}');
        const answer = await fetch(`${h.sim.url}/seedance/api/v3${req.url}`, { method: req.method, headers: { 'content-type': 'application/json', authorization: String(req.headers.authorization ?? '') }, body: chunks.length ? Buffer.concat(chunks) : undefined });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
    try {
      const restarted = await h.startDispatch({ ...env, SEEDANCE_BASE_URL: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`, SEEDANCE_API_KEY: 'ark-test-key' });
      await waitUntil(async () => eventTypes(await h.events(jobId)).includes('JobProviderAcceptedAfterCancel'), 40_000, 'the task found on a later lookup');
      expect(failuresLeft).toBeLessThan(0);
      expect(await h.job(jobId)).toMatchObject({ status: 'canceled', providerTaskId: task.taskId, providerTaskOpen: true });
      await restarted.kill('SIGTERM');
    } finally {
      flaky.close();
    }
  });

  it('never resubmits to a provider it cannot reconcile with: the job fails, with one submission at the sim', async () => {
    const runwayEnv = { PROVIDERS_ENABLED: 'runway', DISPATCH_ACK_WAIT_MS: '2000' };
    const jobId = await crashedAfterSubmit(runwayEnv, { model: 'gen4.5', provider: 'runway', prompt: 'a kite over dunes' });

    const restarted = await h.startDispatch(runwayEnv);
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed', 30_000);
    expect(job.errorCode).toBe('unknown_provider_error');
    expect((await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toHaveLength(1);
    await expectSlotKeptForLostAnswer(jobId);
    await restarted.kill('SIGTERM');
  });

  /** The task the lost answer was about counts at the provider: JobFailed says so, and its delivery to the slot release keeps the slot. */
  async function expectSlotKeptForLostAnswer(jobId: string) {
    const failed = (await h.events(jobId)).find((e) => e.type === 'JobFailed');
    expect(failed?.data).toMatchObject({ providerTaskMayExist: true });
    await h.waitHandled('dispatch-release-slots', 'JobFailed', 'JobFailed handled by the slot release', jobId);
    expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
  }

  it('never resubmits after a crash on a retry either: the retry records its own intent first, so the job fails with one accepted task', async () => {
    const runwayEnv = { PROVIDERS_ENABLED: 'runway', DISPATCH_ACK_WAIT_MS: '2000', DISPATCH_RETRY_BASE_MS: '100' };
    // The first try is answered 503; the retry is accepted, and the process dies before recording it.
    const jobId = await crashedAfterSubmit(runwayEnv, { model: 'gen4.5', provider: 'runway', prompt: 'a kite over dunes [sim:server_error=1,server_status=503]' });

    const restarted = await h.startDispatch(runwayEnv);
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed', 30_000);
    expect(job.errorCode).toBe('unknown_provider_error');
    await restarted.kill('SIGTERM');
    const mine = (await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
    expect(mine.map((s) => [s.submissionKey, s.outcome])).toEqual([
      [`${jobId}:1`, 'rejected'],
      [`${jobId}:1`, 'accepted'],
    ]);
    expect(eventTypes(await h.events(jobId)).slice(3)).toEqual(['JobSubmissionIntended', 'JobSubmissionRetryScheduled', 'JobSubmissionIntended', 'JobFailed']);
  });

  it('never resubmits after a timeout either: the request may have reached a provider that cannot be reconciled, so the job fails with one task', async () => {
    const slowEnv = { PROVIDERS_ENABLED: 'runway', RUNWAY_TIMEOUT_MS: '300', DISPATCH_RETRY_BASE_MS: '100' };
    const dispatch = await h.startDispatch(slowEnv);
    // Runway takes 1 s to answer the create, and creates the task all the same.
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a slow tide [sim:slow=1000]' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed', 30_000);
    expect(job.errorCode).toBe('unknown_provider_error');
    await new Promise((r) => setTimeout(r, 1500)); // the sim finishes what it was asked
    const mine = (await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
    expect(mine.map((s) => s.outcome)).toEqual(['accepted']);
    await expectSlotKeptForLostAnswer(jobId);
    await dispatch.kill('SIGTERM');
  });
  it('holds the slot of a job canceled while its submit, at a provider that cannot be asked, went unanswered: the task may have been made', async () => {
    const dispatch = await h.startDispatch({ PROVIDERS_ENABLED: 'runway', RUNWAY_TIMEOUT_MS: '1500' });
    // Runway takes 3 s to answer the create, and creates the task all the same.
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a slow tide, canceled [sim:slow=3000]' });
    await waitUntil(async () => (await h.job(jobId)).intent !== null, 10_000, 'the submit under way');
    await h.cancel(jobId);
    await waitUntil(() => h.handled('dispatch-submit', 'JobValidated', jobId), 20_000, 'the submit delivery done');
    await h.waitHandled('dispatch-release-slots', 'JobCanceled', 'JobCanceled handled by the slot release', jobId);
    expect(await h.job(jobId)).toMatchObject({ status: 'canceled', providerTaskId: null });
    expect((await h.slots()).map((s) => s.job_id)).toContain(jobId);
    await dispatch.kill('SIGTERM');
  });

  it('leaves no intent behind when building the request fails, so the next delivery submits instead of failing the job', async () => {
    const storageDir = await mkdtemp(join(tmpdir(), 'reelay-dispatch-assets-'));
    const dispatch = await h.startDispatch({ PROVIDERS_ENABLED: 'runway', STORAGE_DIR: storageDir });
    try {
      const assetId = 'asset_transientlyunreadable01';
      const meta = await writeAsset(storageDir, assetId, false);
      // Its description cannot be read for now (a directory where the file should be): an I/O error, not a missing asset.
      await mkdir(meta);
      const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a kite from an image', assetId });
      await waitUntil(async () => dispatch.output().includes('EISDIR'), 20_000, 'a delivery that failed reading the asset');
      expect((await h.job(jobId)).intent).toBeNull();
      await rm(meta, { recursive: true });
      await writeAsset(storageDir, assetId);
      const job = await h.waitForJob(jobId, (j) => j.status === 'running' || j.status === 'failed', 30_000);
      expect([job.status, job.errorCode]).toEqual(['running', null]);
      expect((await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`)).map((s) => s.outcome)).toEqual(['accepted']);
    } finally {
      await dispatch.kill('SIGTERM');
      await rm(storageDir, { recursive: true, force: true });
    }
  });

  it('a database outage right after the provider accepted does not lose the answer: the acceptance is recorded once the database is back', async () => {
    const dispatch = await h.startDispatch({ PROVIDERS_ENABLED: 'runway' });
    const admin = new Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    const database = (allow: boolean) => admin.query(`ALTER DATABASE ${h.db.name} WITH ALLOW_CONNECTIONS ${allow}`);
    try {
      // Runway takes 1.5 s to answer the create; the database goes away while it does.
      const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a heron at dawn [sim:slow=1500]' });
      await h.waitForJob(jobId, (j) => j.intent !== null);
      await database(false);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'dispatch'`, [h.db.name]);
      await waitUntil(async () => (await h.submissions('runway')).some((s) => s.submissionKey === `${jobId}:1` && s.outcome === 'accepted'), 10_000, 'runway accepted');
      await new Promise((r) => setTimeout(r, 1000)); // dispatch meets the outage with the task id in hand
      await database(true);

      const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);
      const [accepted] = (await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
      expect([job.status, job.errorCode, job.providerTaskId]).toEqual(['running', null, accepted.taskId]);
      expect((await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toHaveLength(1);
      expect(dispatch.output()).toContain('could not record the acceptance; trying again');
    } finally {
      await database(true);
      await admin.end();
      await dispatch.kill('SIGTERM');
    }
  });

  it('an outage longer than dispatch tries to record for leaves a task it can find by our key running, and records it once the database is back', async () => {
    const dispatch = await h.startDispatch({ ...env, DISPATCH_RECORD_RETRY_MS: '5000', DISPATCH_ACK_WAIT_MS: '2000' });
    const admin = new Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    const database = (allow: boolean) => admin.query(`ALTER DATABASE ${h.db.name} WITH ALLOW_CONNECTIONS ${allow}`);
    try {
      // Ark takes 1.5 s to answer the create; the database goes away meanwhile and stays away past the 5 s of tries.
      const jobId = await h.createValidatedJob({ model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a heron at dusk [sim:slow=1500,queue=50]' });
      await h.waitForJob(jobId, (j) => j.intent !== null);
      await database(false);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'dispatch'`, [h.db.name]);
      await waitUntil(() => Promise.resolve(dispatch.output().includes('the acceptance could not be recorded')), 20_000, 'dispatch gave up recording');
      await database(true);

      const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);
      const made = (await h.submissions('seedance')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
      expect(made).toHaveLength(1);
      expect(job).toMatchObject({ status: 'running', providerTaskId: made[0].taskId });
      const tasks = (await (await fetch(`${h.sim.url}/_sim/tasks`)).json()) as { id: string; phase: string }[];
      expect(tasks.find((t) => t.id === made[0].taskId)?.phase).not.toBe('canceled'); // left to run, not stopped as an orphan
    } finally {
      await database(true);
      await admin.end();
      await dispatch.kill('SIGTERM');
    }
  });

  describe('luma, whose generations are found by a marker in the callback URL', () => {
    const crashThenRestart = async (env: Record<string, string>, prompt: string, between?: () => Promise<unknown>) => {
      const jobId = await crashedAfterSubmit(env, { model: 'ray-2', durationSeconds: 5, provider: 'luma', prompt });
      await between?.();
      return { jobId, restarted: await h.startDispatch(env) };
    };
    const submittedFor = async (jobId: string) => (await h.submissions('luma')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
    const createGenerations = (n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => fetch(`${h.sim.url}/luma/dream-machine/v1/generations/video`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: JSON.stringify({ model: 'ray-2', prompt: `other ${i} [sim:queue=1000]` }),
      }).then((r) => expect(r.status).toBe(201))));

    it('without callbacks (no PUBLIC_BASE_URL) it cannot be found again, so the job fails instead of being submitted twice', async () => {
      const env = { PROVIDERS_ENABLED: 'luma', DISPATCH_ACK_WAIT_MS: '2000' };
      const { jobId, restarted } = await crashThenRestart(env, 'a lantern on a lake [sim:queue=1000]');
      const job = await h.waitForJob(jobId, (j) => j.status === 'failed', 30_000);
      expect(job.errorCode).toBe('unknown_provider_error');
      expect((await submittedFor(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
      await restarted.kill('SIGTERM');
    });

    it('with callbacks it is found again behind more than a page of newer generations', async () => {
      const env = { PROVIDERS_ENABLED: 'luma', DISPATCH_ACK_WAIT_MS: '2000', PUBLIC_BASE_URL: 'http://127.0.0.1:9' };
      const { jobId, restarted } = await crashThenRestart(env, 'a lantern on a lake [sim:queue=1000]', () => createGenerations(130));
      const [accepted] = await submittedFor(jobId);
      const job = await h.waitForJob(jobId, (j) => j.status === 'running', 30_000);
      expect(job.providerTaskId).toBe(accepted.taskId);
      expect(await submittedFor(jobId)).toHaveLength(1);
      await restarted.kill('SIGTERM');
    });
  });
});
