import { buffer } from 'node:stream/consumers';
import { FalAdapter, falRequestId, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';

const MODEL = 'fal-ai/kling-video/v2.1/pro/text-to-video';
const KEY = 'fal-key-id:fal-key-secret-123456';

describe('FalAdapter against provider-sim (providers.md §7, §10)', () => {
  let sim: RunningProviderSim;
  let adapter: FalAdapter;
  let sink: CallbackSink;
  let base: string;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    sink = await startCallbackSink();
    base = `${sim.url}/fal`;
    adapter = new FalAdapter({ apiKey: KEY, baseUrl: base, jwksUrl: `${base}/.well-known/jwks.json`, webhooks: true });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps IN_QUEUE → IN_PROGRESS → COMPLETED + result, polling under the app id without the sub-path', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:queue=2,success_after=2]' }));
    expect(providerTaskId).toMatch(/^fal-ai\/kling-video\/requests\/[0-9a-f-]{36}$/);
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus])).toEqual([
      ['queued', 'IN_QUEUE(1)'],
      ['queued', 'IN_QUEUE(0)'],
      ['running', 'IN_PROGRESS'],
      ['succeeded', 'COMPLETED'],
    ]);
    const res = await adapter.fetchOutput(seen[3].outputUrl!);
    expect((await buffer(res.body)).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('reports a deep queue position as delayed', async () => {
    const strict = new FalAdapter({ apiKey: KEY, baseUrl: base, delayedQueuePosition: 3 });
    const { providerTaskId } = await strict.submit(request({ model: MODEL, prompt: 'fox [sim:queue=6]' }));
    expect(await strict.check(providerTaskId)).toMatchObject({ state: 'queued', delayed: true, providerStatus: 'IN_QUEUE(5)' });
  });

  it('sends the model input, the webhook and the duration in the configured format', async () => {
    const req = request({ model: MODEL, durationSeconds: 10, aspectRatio: '9:16', resolution: '1080p', seed: 3, negativePrompt: 'blur', imageUrl: 'https://example.com/a.png', callbackUrl: sink.url });
    const { providerTaskId } = await adapter.submit(req);
    const task = sim.ctx.getTask('fal', falRequestId(providerTaskId))!;
    expect(task.request).toEqual({ prompt: 'a red fox in snow', duration: '10', aspect_ratio: '9:16', resolution: '1080p', seed: 3, negative_prompt: 'blur', image_url: 'https://example.com/a.png' });
    expect(task.callbackUrl).toBe(`${sink.url}?fal_app=${encodeURIComponent('fal-ai/kling-video')}`);
    expect(task.model).toBe(MODEL);

    const veo = new FalAdapter({ apiKey: KEY, baseUrl: base, durationFormat: 'seconds' });
    const second = await veo.submit(request({ model: 'fal-ai/veo3', durationSeconds: 8, callbackUrl: sink.url }));
    const t2 = sim.ctx.getTask('fal', falRequestId(second.providerTaskId))!;
    expect(t2.request.duration).toBe('8s');
    expect(t2.callbackUrl).toBeUndefined(); // webhooks are off unless configured
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation', 'moderation_rejected'],
    ['[sim:reject=422:value_error]', 'invalid_request', 'validation_failed'],
    ['[sim:reject=422:file_download_error]', 'asset_fetch', 'asset_fetch_failed'],
    ['[sim:reject=422:file_too_large]', 'invalid_request', 'validation_failed'],
    ['[sim:reject=422:image_too_large]', 'invalid_request', 'validation_failed'],
    ['[sim:reject=401]', 'auth', 'unknown_provider_error'],
    ['[sim:reject=403]', 'auth', 'unknown_provider_error'],
    ['[sim:reject=404]', 'not_found', 'unknown_provider_error'],
    ['[sim:rate_limit=1,retry_after=4]', 'rate_limited', 'provider_rate_limited'],
    ['[sim:server_error=1,server_status=503]', 'rate_limited', 'provider_rate_limited'],
    ['[sim:server_error=1,server_status=500]', 'server', 'unknown_provider_error'],
    ['[sim:server_error=1,server_status=504]', 'timeout', 'provider_timeout'],
  ] as const)('submit %s → %s / %s', async (tag, kind, code) => {
    const err = await providerError(() => adapter.submit(request({ model: MODEL, prompt: `fox ${tag}` })));
    expect(err.kind).toBe(kind);
    expect(toJobErrorCode(err)).toBe(code);
    if (tag.includes('rate_limit')) expect(err.retryAfterMs).toBe(4000);
    expect(err.detail).not.toContain('fal-key-secret');
  });

  it.each([
    ['[sim:moderation_after]', 'moderation', 'moderation_rejected', 'content_policy_violation'],
    ['[sim:fail_code=file_download_error]', 'asset_fetch', 'asset_fetch_failed', 'file_download_error'],
    ['[sim:fail_code=image_too_large]', 'invalid_request', 'validation_failed', 'image_too_large'],
    ['[sim:fail_code=request_timeout]', 'timeout', 'provider_timeout', 'request_timeout'],
    ['[sim:fail_code=startup_timeout]', 'timeout', 'provider_timeout', 'startup_timeout'],
    ['[sim:fail_code=runner_disconnected]', 'server', 'unknown_provider_error', 'runner_disconnected'],
    ['[sim:fail_code=runner_connection_refused]', 'server', 'unknown_provider_error', 'runner_connection_refused'],
    ['[sim:no_output]', 'output_missing', 'output_missing', undefined],
    ['[sim:fail_code=app_exception]', 'server', 'unknown_provider_error', undefined],
  ] as const)('result %s → failed %s / %s', async (tag, kind, code, providerCode) => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: `fox ${tag}` }));
    expect(last).toMatchObject({ state: 'failed', providerStatus: 'COMPLETED' });
    expect(last.error!.kind).toBe(kind);
    expect(toJobErrorCode(last.error!)).toBe(code);
    expect(last.error!.providerCode).toBe(providerCode);
  });

  it('takes a bare 5xx from the result read (no fal error type) as a failed check, not a failed request', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=1,result_server_error=1]' }));
    let err;
    for (let i = 0; i < 10 && !err; i++) err = await adapter.check(providerTaskId).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'server', httpStatus: 502, retryable: true });
    expect(await adapter.check(providerTaskId)).toMatchObject({ state: 'succeeded', outputUrl: expect.any(String) });
  });

  it('honours the retry hint header on result errors', async () => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: 'fox [sim:moderation_after]' }));
    expect(last.error!.retryable).toBe(false);
  });

  it('removes a queued request, only signals a running one (its app may go on), and treats cancel after completion as done', async () => {
    const queued = (await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:queue=5]' }))).providerTaskId;
    await expect(adapter.cancel(queued)).resolves.toBe('stopped');
    expect((await adapter.check(queued)).state).toBe('canceled');

    const ignoring = (await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:never_finish]' }))).providerTaskId;
    expect((await adapter.check(ignoring)).state).toBe('running');
    await expect(adapter.cancel(ignoring)).resolves.toBe('requested');
    expect((await adapter.check(ignoring)).state).toBe('running');

    const honoring = (await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:never_finish,honor_cancel]' }))).providerTaskId;
    await adapter.check(honoring);
    await expect(adapter.cancel(honoring)).resolves.toBe('requested');
    expect((await adapter.check(honoring)).state).toBe('canceled');
    await expect(adapter.cancel(honoring)).resolves.toBe('stopped');
    const missing = await providerError(() => adapter.cancel('fal-ai/kling-video/requests/00000000-0000-0000-0000-000000000000'));
    expect(missing.kind).toBe('not_found');
  });

  it('reports check failures as errors of the check', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:check_rate_limit=1]' }));
    expect((await providerError(() => adapter.check(providerTaskId))).kind).toBe('rate_limited');
    expect((await adapter.check(providerTaskId)).state).toBe('running');
    const otherApp = providerTaskId.replace('kling-video', 'other-app');
    expect((await providerError(() => adapter.check(otherApp))).kind).toBe('not_found');
  });

  it('maps an expired output URL to output_missing', async () => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: 'fox [sim:expire_output]' }));
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
  });

  it('verifies Ed25519-signed webhooks against the JWKS, refusing tampered, stale and unverifiable ones', async () => {
    sink.received.length = 0;
    const cold = new FalAdapter({ apiKey: KEY, baseUrl: base, jwksUrl: `${base}/.well-known/jwks.json`, webhooks: true });
    await adapter.refreshWebhookKeys();
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=1,callback_duplicate]', callbackUrl: sink.url }));
    // The sink is shared with earlier tests whose duplicate and late callbacks may still arrive.
    const mine = () => sink.received.filter((r) => JSON.parse(r.body).request_id === falRequestId(providerTaskId));
    await sink.waitFor(() => mine().length >= 2);
    const [first] = mine();
    const body = JSON.parse(first.body);
    expect(body).toMatchObject({ request_id: falRequestId(providerTaskId), status: 'OK', payload: { video: { url: expect.any(String) } } });
    // The body names only the request id; the app id comes back in the webhook URL we gave fal.
    expect(adapter.verifyCallback(first.headers, first.body, first.query)).toEqual({ providerTaskId, signed: true });
    expect(adapter.verifyCallback(first.headers, first.body)).toBeNull();
    expect(adapter.verifyCallback(first.headers, first.body, 'fal_app=..%2F..')).toBeNull();
    expect(adapter.verifyCallback(first.headers, first.body.replace('"OK"', '"ERROR"'), first.query)).toBeNull();
    const late = new FalAdapter({ apiKey: KEY, baseUrl: base, jwksUrl: `${base}/.well-known/jwks.json`, webhooks: true, nowMs: () => Date.now() + 10 * 60_000 });
    await late.refreshWebhookKeys();
    expect(late.verifyCallback(first.headers, first.body, first.query)).toBeNull();
    expect(cold.verifyCallback(first.headers, first.body, first.query)).toBeNull(); // keys not loaded yet: refused, fal retries
  });

  it('delivers failures as status ERROR webhooks', async () => {
    sink.received.length = 0;
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=1,moderation_after]', callbackUrl: sink.url }));
    const mine = () => sink.received.filter((r) => JSON.parse(r.body).request_id === falRequestId(providerTaskId));
    await sink.waitFor(() => mine().length >= 1);
    expect(JSON.parse(mine()[0].body)).toMatchObject({ status: 'ERROR', error: 'Invalid status code: 422', payload: { detail: [{ type: 'content_policy_violation' }] } });
  });
});
