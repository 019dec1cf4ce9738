import { buffer } from 'node:stream/consumers';
import { SeedanceAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';

const MODEL = 'seedance-1-0-pro-250528';

describe('SeedanceAdapter against provider-sim (providers.md §1, §10)', () => {
  let sim: RunningProviderSim;
  let adapter: SeedanceAdapter;
  let sink: CallbackSink;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    sink = await startCallbackSink();
    adapter = new SeedanceAdapter({ apiKey: 'ark-test-key-123456', baseUrl: `${sim.url}/seedance/api/v3`, correlation: 'safety_identifier' });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps queued → running → succeeded and downloads a real MP4', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=3]' }));
    expect(providerTaskId).toMatch(/^cgt-/);
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => s.state)).toEqual(['running', 'running', 'succeeded']);
    const res = await adapter.fetchOutput(seen[2].outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const bytes = await buffer(res.body);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('sends body parameters and the submission key header', async () => {
    const req = request({ model: MODEL, aspectRatio: '9:16', durationSeconds: 8, resolution: '1080p', seed: 7, imageUrl: 'https://example.com/a.png' });
    await adapter.submit(req);
    const rec = sim.ctx.submissions.find((s) => s.submissionKey === req.submissionKey)!;
    expect(rec.outcome).toBe('accepted');
    const task = sim.ctx.getTask('seedance', rec.taskId!)!;
    expect(task.request).toMatchObject({ ratio: '9:16', duration: 8, resolution: '1080p', seed: 7 });
    expect(task.request.content).toEqual([
      { type: 'text', text: 'a red fox in snow' },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' }, role: 'first_frame' },
    ]);
  });

  it('refuses before calling Ark what a model generation does not take: 2.0 with a seed or 3 s, 1.x with 13 s', async () => {
    const before = sim.ctx.submissions.length;
    for (const r of [
      request({ model: 'dreamina-seedance-2-0-260128', durationSeconds: 5, seed: 7 }),
      request({ model: 'dreamina-seedance-2-0-260128', durationSeconds: 3 }),
      request({ model: MODEL, durationSeconds: 13 }),
    ]) {
      const err = await providerError(() => adapter.submit(r));
      expect(toJobErrorCode(err)).toBe('validation_failed');
    }
    expect(sim.ctx.submissions.length).toBe(before);
    await expect(adapter.submit(request({ model: 'dreamina-seedance-2-0-260128', durationSeconds: 15 }))).resolves.toMatchObject({ providerTaskId: expect.any(String) });
  });

  it('the sim refuses per model generation as Ark does: a seed or frames on 2.0, 13 s on 1.x, 4k on 2.0 fast', async () => {
    const create = (model: string, params: Record<string, unknown>) =>
      fetch(`${sim.url}/seedance/api/v3/contents/generations/tasks`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ark-test-key-123456' }, body: JSON.stringify({ model, content: [{ type: 'text', text: 'fox' }], ...params }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { param?: string } } }));
    expect(await create('dreamina-seedance-2-0-260128', { duration: 5, seed: 3 })).toMatchObject({ status: 400, body: { error: { param: 'seed' } } });
    expect(await create('dreamina-seedance-2-0-260128', { frames: 29 })).toMatchObject({ status: 400, body: { error: { param: 'frames' } } });
    expect(await create(MODEL, { duration: 13 })).toMatchObject({ status: 400, body: { error: { param: 'duration' } } });
    expect(await create('dreamina-seedance-2-0-fast-260128', { resolution: '4k' })).toMatchObject({ status: 400, body: { error: { param: 'resolution' } } });
    expect((await create('dreamina-seedance-2-0-260128', { duration: -1, resolution: '4k' })).status).toBe(200);
    expect((await create(MODEL, { duration: 12, seed: 3 })).status).toBe(200);
  });

  it('supports legacy text commands', async () => {
    const text = new SeedanceAdapter({ apiKey: 'k', baseUrl: `${sim.url}/seedance/api/v3`, paramStyle: 'text' });
    const { providerTaskId } = await text.submit(request({ model: MODEL, aspectRatio: '1:1', durationSeconds: 4 }));
    expect(sim.ctx.getTask('seedance', providerTaskId)!.request).toMatchObject({ ratio: '1:1', duration: 4 });
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation', 'moderation_rejected', 'InputTextSensitiveContentDetected'],
    ['[sim:reject=400:InvalidParameter]', 'invalid_request', 'validation_failed', 'InvalidParameter'],
    ['[sim:reject=400:MissingParameter]', 'invalid_request', 'validation_failed', 'MissingParameter'],
    ['[sim:reject=400:InputImageRiskDetection]', 'moderation', 'moderation_rejected', 'InputImageRiskDetection'],
    ['[sim:reject=400:asset]', 'asset_fetch', 'asset_fetch_failed', 'InvalidParameter'],
    ['[sim:reject=401]', 'auth', 'unknown_provider_error', 'AuthenticationError'],
    ['[sim:reject=403:AccountOverdueError]', 'billing', 'unknown_provider_error', 'AccountOverdueError'],
    ['[sim:reject=404:ModelNotOpen]', 'not_found', 'unknown_provider_error', 'ModelNotOpen'],
    // A closed endpoint (ep-...) is the operator's model setting: the model is not available, not the user's request invalid.
    ['[sim:reject=400:InvalidEndpoint.ClosedEndpoint]', 'not_found', 'unknown_provider_error', 'model_unavailable'],
    ['[sim:reject=429:QuotaExceeded]', 'rate_limited', 'provider_rate_limited', 'QuotaExceeded'],
    ['[sim:reject=429:ServerOverloaded]', 'rate_limited', 'provider_rate_limited', 'ServerOverloaded'],
    ['[sim:server_error=1]', 'server', 'unknown_provider_error', 'InternalServiceError'],
  ])('submit %s → %s / %s', async (tag, kind, jobCode, providerCode) => {
    const err = await providerError(() => adapter.submit(request({ model: MODEL, prompt: `fox ${tag}` })));
    expect(err.kind).toBe(kind);
    expect(toJobErrorCode(err)).toBe(jobCode);
    expect(err.providerCode).toBe(providerCode);
    expect(err.detail).not.toContain('ark-test-key-123456');
  });

  it('429 carries Retry-After, and the next attempt with the same key is accepted', async () => {
    const req = request({ model: MODEL, prompt: 'fox [sim:rate_limit=1,retry_after=3]' });
    const err = await providerError(() => adapter.submit(req));
    expect(err).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 3000, providerCode: 'RateLimitExceeded.EndpointRPMExceeded' });
    await expect(adapter.submit(req)).resolves.toHaveProperty('providerTaskId');
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected', 'OutputVideoSensitiveContentDetected.PolicyViolation'],
    ['[sim:fail_code=InputImageSensitiveContentDetected.PrivacyInformation]', 'moderation_rejected', 'InputImageSensitiveContentDetected.PrivacyInformation'],
    ['[sim:fail_code=expired]', 'provider_timeout', 'expired'],
    ['[sim:fail_code=InternalServiceError]', 'unknown_provider_error', 'InternalServiceError'],
    ['[sim:no_output]', 'output_missing', undefined],
  ])('task %s → failed %s', async (tag, jobCode, providerCode) => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: `fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
    expect(last.error!.providerCode).toBe(providerCode);
  });

  it('an expired output URL is output_missing', async () => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: 'fox [sim:expire_output]' }));
    expect(last.state).toBe('succeeded');
    const err = await providerError(() => adapter.fetchOutput(last.outputUrl!));
    expect(toJobErrorCode(err)).toBe('output_missing');
  });

  it('cancels a queued task; cancelling a running one is an error', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=5]' }));
    await adapter.cancel(providerTaskId);
    expect((await adapter.check(providerTaskId)).state).toBe('canceled');
    const running = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=5]' }));
    expect((await adapter.check(running.providerTaskId)).state).toBe('running');
    const err = await providerError(() => adapter.cancel(running.providerTaskId));
    expect(err.kind).toBe('invalid_request');
  });

  it('check errors: 5xx burst, 429, unknown task, timeout', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:check_server_error=2]' }));
    expect((await providerError(() => adapter.check(providerTaskId))).kind).toBe('server');
    expect((await providerError(() => adapter.check(providerTaskId))).retryable).toBe(true);
    expect((await adapter.check(providerTaskId)).state).toBe('running');
    const limited = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:check_rate_limit=1]' }));
    expect((await providerError(() => adapter.check(limited.providerTaskId))).kind).toBe('rate_limited');
    expect((await providerError(() => adapter.check('cgt-nope'))).kind).toBe('not_found');
    const slow = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:slow=300]' }));
    const err = await providerError(() => adapter.check(slow.providerTaskId, { timeoutMs: 50 }));
    expect(toJobErrorCode(err)).toBe('provider_timeout');
  });

  it('never_finish stays running', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:never_finish]' }));
    const seen = await pollToEnd(adapter, providerTaskId, 6);
    expect(seen.every((s) => s.state === 'running')).toBe(true);
  });

  it('posts unsigned callbacks on each status, including duplicate and late ones', async () => {
    const req = request({ model: MODEL, prompt: 'fox [sim:success_after=2,callback_duplicate,callback_late=60]', callbackUrl: sink.url });
    const { providerTaskId } = await adapter.submit(req);
    const mine = (bodies: string[]) => bodies.map((b) => JSON.parse(b) as { id: string; status: string }).filter((b) => b.id === providerTaskId);
    await sink.waitFor((bodies) => mine(bodies).length >= 5);
    const statuses = mine(sink.received.map((r) => r.body)).map((b) => b.status);
    expect(statuses.slice(0, 3)).toEqual(['queued', 'running', 'succeeded']);
    expect(statuses.slice(3).sort()).toEqual(['running', 'succeeded']); // duplicate + late, in either order
    const verified = adapter.verifyCallback({}, sink.received[0].body);
    expect(verified).toEqual({ providerTaskId: expect.any(String), signed: false });
    expect(adapter.verifyCallback({}, 'not json')).toBeNull();
  });

  it('finds a submission again by its key via safety_identifier', async () => {
    const req = request({ model: MODEL });
    const { providerTaskId } = await adapter.submit(req);
    await expect(adapter.findBySubmissionKey(req.submissionKey)).resolves.toBe(providerTaskId);
    await expect(adapter.findBySubmissionKey('never-submitted')).resolves.toBeNull();
  });

  it('cannot tell when the key is not among the tasks it scanned while older ones remain: an unknown outcome, not "not found"', async () => {
    const narrow = new SeedanceAdapter({ apiKey: 'ark-test-key-123456', baseUrl: `${sim.url}/seedance/api/v3`, correlation: 'safety_identifier', reconcilePages: 2, reconcilePageSize: 2 });
    const older = request({ model: MODEL });
    await narrow.submit(older);
    const newer: { providerTaskId: string }[] = [];
    for (let i = 0; i < 4; i++) newer.push(await narrow.submit(request({ model: MODEL })));
    // Within the 4 newest: found.
    const recent = sim.ctx.submissions.find((s) => s.taskId === newer[1].providerTaskId)!;
    await expect(narrow.findBySubmissionKey(recent.submissionKey!)).resolves.toBe(newer[1].providerTaskId);
    // Behind them: reconciliation must not answer null, or dispatch would submit it a second time.
    const err = await providerError(() => narrow.findBySubmissionKey(older.submissionKey));
    expect(err).toMatchObject({ kind: 'server', retryable: false });
    await expect(narrow.findBySubmissionKey('never-submitted')).rejects.toMatchObject({ kind: 'server', retryable: false });
    // Unless the list, newest first, has reached tasks made well before the key's first try: a task
    // of that key cannot be older, so "not found" is proven (a retry after a clean 429 on a busy account).
    const firstTryLater = new Date(Date.now() + 10 * 60_000);
    await expect(narrow.findBySubmissionKey('never-submitted', undefined, firstTryLater)).resolves.toBeNull();
  });
});
