import { buffer } from 'node:stream/consumers';
import { VeoAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, submitAndFinish } from '../testing/adapter-harness';

const MODEL = 'veo-3.1-generate-preview';
const KEY = 'AIzaSy-test-key-1234567890';
const PNG_1PX = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('VeoAdapter against provider-sim (providers.md §5, §10)', () => {
  let sim: RunningProviderSim;
  let adapter: VeoAdapter;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    adapter = new VeoAdapter({ apiKey: KEY, baseUrl: `${sim.url}/veo/v1beta` });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('follows the operation to done and downloads the sample with the key', async () => {
    const { providerTaskId } = await adapter.submit(request({ durationSeconds: 8, model: MODEL, prompt: 'fox [sim:success_after=3]' }));
    expect(providerTaskId).toMatch(new RegExp(`^models/${MODEL}/operations/[0-9a-f]+$`));
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => s.state)).toEqual(['running', 'running', 'succeeded']);
    expect(seen[2].outputUrl).toMatch(/\/files\/[0-9a-f]+:download\?alt=media$/);
    const res = await adapter.fetchOutput(seen[2].outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect((await buffer(res.body)).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('sends instances/parameters as the SDK does, with the image inlined', async () => {
    const req = request({ model: MODEL, aspectRatio: '9:16', durationSeconds: 6, resolution: '1080p', negativePrompt: 'blur', seed: 5, imageUrl: PNG_1PX });
    const { providerTaskId } = await adapter.submit(req);
    const task = sim.ctx.getTask('veo', providerTaskId)!;
    expect(task.request).toEqual({ sampleCount: 1, durationSeconds: 6, aspectRatio: '9:16', resolution: '1080p', negativePrompt: 'blur', hasImage: true, imageMimeType: 'image/png' });
    expect(sim.ctx.submissions.find((s) => s.taskId === providerTaskId)!.submissionKey).toBe(req.submissionKey);
  });

  it('the sim refuses an inline image Veo would refuse: another field name, a type Veo does not take, bytes of another type', async () => {
    const png = PNG_1PX.split(',')[1];
    const submit = (image: unknown, parameters: Record<string, unknown> = {}) =>
      fetch(`${sim.url}/veo/v1beta/models/${MODEL}:predictLongRunning`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY }, body: JSON.stringify({ instances: [{ prompt: 'fox', image }], parameters }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { status: string; message: string } } }));
    expect(await submit({ imageBytes: png, mimeType: 'image/png' })).toMatchObject({ status: 400, body: { error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('Unknown name "imageBytes"') } } });
    expect(await submit({ bytesBase64Encoded: png, mimeType: 'image/gif' })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('image/gif') } } });
    expect(await submit({ bytesBase64Encoded: png, mimeType: 'image/jpeg' })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('not image/jpeg') } } });
    expect(await submit({ bytesBase64Encoded: png, mimeType: 'image/png' }, { personGeneration: 'everyone' })).toMatchObject({ status: 400 });
    expect((await submit({ bytesBase64Encoded: png, mimeType: 'image/png' }, { personGeneration: 'allow_adult' })).status).toBe(200);
  });

  it('takes the durations each model generation takes: 4, 6 or 8 s for Veo 3, 5 to 8 s for Veo 2', async () => {
    await expect(adapter.submit(request({ durationSeconds: 7, model: 'veo-2.0-generate-001' }))).resolves.toMatchObject({ providerTaskId: expect.any(String) });
    expect((await providerError(() => adapter.submit(request({ durationSeconds: 4, model: 'veo-2.0-generate-001' })))).kind).toBe('invalid_request');
    expect((await providerError(() => adapter.submit(request({ durationSeconds: 7, model: MODEL })))).kind).toBe('invalid_request');
  });

  it('refuses a square video before calling Veo', async () => {
    const before = sim.ctx.submissions.length;
    const err = await providerError(() => adapter.submit(request({ durationSeconds: 8, model: MODEL, aspectRatio: '1:1' })));
    expect(toJobErrorCode(err)).toBe('validation_failed');
    expect(sim.ctx.submissions.length).toBe(before);
  });

  it('maps an unreachable input image to asset_fetch_failed', async () => {
    const err = await providerError(() => adapter.submit(request({ durationSeconds: 8, model: MODEL, imageUrl: `${sim.url}/_sim/files/missing.png` })));
    expect(err.kind).toBe('asset_fetch');
    expect(toJobErrorCode(err)).toBe('asset_fetch_failed');
  });

  it('follows no redirect for an input image and reads no more than its size limit', async () => {
    const served: Record<string, Response> = {
      'http://img.test/redirect': new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } }),
      'http://img.test/huge': new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(1024 * 1024)) }), { headers: { 'content-type': 'image/png' } }),
    };
    const seen: RequestInit[] = [];
    const guarded = new VeoAdapter({
      apiKey: KEY,
      baseUrl: `${sim.url}/veo/v1beta`,
      fetch: async (input, init) => {
        const url = String(input);
        if (!(url in served)) return fetch(input, init);
        seen.push(init ?? {});
        return init?.redirect === 'error' && served[url].status === 302 ? Promise.reject(new TypeError('fetch failed: redirect')) : served[url];
      },
    });
    const before = sim.ctx.submissions.length;
    for (const imageUrl of ['http://img.test/redirect', 'http://img.test/huge']) {
      const err = await providerError(() => guarded.submit(request({ durationSeconds: 8, model: MODEL, imageUrl })));
      expect([imageUrl, err.kind]).toEqual([imageUrl, 'asset_fetch']);
    }
    // Both images were fetched through the guarded fetch (an empty list would prove nothing), never following a redirect.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((init) => init.redirect === 'error')).toBe(true);
    expect(sim.ctx.submissions.length).toBe(before);
    expect(guarded.capabilities.inlineImage).toEqual({ maxBytes: 20 * 1024 * 1024 });
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation', 'moderation_rejected', 'INVALID_ARGUMENT', false],
    ['[sim:reject=400]', 'invalid_request', 'validation_failed', 'INVALID_ARGUMENT', false],
    ['[sim:reject=400:FAILED_PRECONDITION]', 'invalid_request', 'validation_failed', 'FAILED_PRECONDITION', false],
    ['[sim:reject=401]', 'auth', 'unknown_provider_error', 'UNAUTHENTICATED', false],
    ['[sim:reject=403]', 'auth', 'unknown_provider_error', 'PERMISSION_DENIED', false],
    ['[sim:reject=404]', 'not_found', 'unknown_provider_error', 'model_unavailable', false],
    ['[sim:rate_limit=1,retry_after=2]', 'rate_limited', 'provider_rate_limited', 'RESOURCE_EXHAUSTED', true],
    ['[sim:server_error=1,server_status=500]', 'server', 'unknown_provider_error', 'INTERNAL', true],
    ['[sim:server_error=1,server_status=503]', 'server', 'unknown_provider_error', 'UNAVAILABLE', true],
    ['[sim:server_error=1,server_status=504]', 'timeout', 'provider_timeout', 'DEADLINE_EXCEEDED', true],
  ] as const)('submit %s → %s / %s', async (tag, kind, code, providerCode, retryable) => {
    const err = await providerError(() => adapter.submit(request({ durationSeconds: 8, model: MODEL, prompt: `fox ${tag}` })));
    expect({ kind: err.kind, code: toJobErrorCode(err), providerCode: err.providerCode, retryable: err.retryable }).toEqual({ kind, code, providerCode, retryable });
    if (kind === 'rate_limited') expect(err.retryAfterMs).toBe(2000);
    expect(err.detail).not.toContain(KEY);
  });

  it('is refused a duration Veo 3 does not take (4, 6 or 8 only)', async () => {
    for (const durationSeconds of [5, 7]) {
      expect((await providerError(() => adapter.submit(request({ model: MODEL, durationSeconds })))).kind).toBe('invalid_request');
    }
  });

  it.each([
    ['[sim:moderation_after]', 'moderation', 'moderation_rejected'],
    ['[sim:fail_code=3]', 'invalid_request', 'validation_failed'],
    ['[sim:fail_code=FAILED_PRECONDITION]', 'invalid_request', 'validation_failed'],
    ['[sim:fail_code=4]', 'timeout', 'provider_timeout'],
    ['[sim:fail_code=8]', 'rate_limited', 'provider_rate_limited'],
    ['[sim:fail_code=13]', 'server', 'unknown_provider_error'],
    ['[sim:fail_code=14]', 'server', 'unknown_provider_error'],
    ['[sim:fail_code=3,fail_message="Your prompt violates our usage guidelines"]', 'moderation', 'moderation_rejected'],
    ['[sim:no_output]', 'output_missing', 'output_missing'],
  ] as const)('operation %s → failed %s / %s', async (tag, kind, code) => {
    const last = await submitAndFinish(adapter, request({ durationSeconds: 8, model: MODEL, prompt: `fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(last.error!.kind).toBe(kind);
    expect(toJobErrorCode(last.error!)).toBe(code);
  });

  it('reports check failures as errors of the check, not of the job', async () => {
    const { providerTaskId } = await adapter.submit(request({ durationSeconds: 8, model: MODEL, prompt: 'fox [sim:check_rate_limit=1,check_server_error=0]' }));
    const limited = await providerError(() => adapter.check(providerTaskId));
    expect(limited.kind).toBe('rate_limited');
    expect((await adapter.check(providerTaskId)).state).toBe('running');
    const missing = await providerError(() => adapter.check(`models/${MODEL}/operations/doesnotexist`));
    expect(missing.kind).toBe('not_found');
  });

  it('maps a download after retention to output_missing', async () => {
    const last = await submitAndFinish(adapter, request({ durationSeconds: 8, model: MODEL, prompt: 'fox [sim:expire_output]' }));
    expect(last.state).toBe('succeeded');
    const err = await providerError(() => adapter.fetchOutput(last.outputUrl!));
    expect(toJobErrorCode(err)).toBe('output_missing');
  });

  it('never sends the API key to another host', async () => {
    let seenKey: string | null = 'unset';
    const spy = new VeoAdapter({
      apiKey: KEY,
      baseUrl: `${sim.url}/veo/v1beta`,
      fetch: async (url, init) => {
        seenKey = new Headers(init?.headers).get('x-goog-api-key');
        return fetch(url, init);
      },
    });
    await spy.fetchOutput(`${sim.url.replace('127.0.0.1', 'localhost')}/_sim/health`).then((r) => r.body.destroy(), () => undefined);
    expect(seenKey).toBeNull();
  });
});
