import { createAdapters, KlingAdapter, klingToken, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';

const ACCESS = 'ak-kling-sim';
const SECRET = 'sk-kling-sim';
const MODEL = 'kling-v2-1-master';
const kling = (over: Parameters<typeof request>[0] | object = {}) => request({ model: MODEL, ...over });

describe('KlingAdapter against provider-sim (providers.md §8)', () => {
  let sim: RunningProviderSim;
  let adapter: KlingAdapter;
  let sink: CallbackSink;
  let base: string;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0, requireAuth: true });
    sink = await startCallbackSink();
    base = `${sim.url}/kling`;
    adapter = new KlingAdapter({ apiKey: ACCESS, secretKey: SECRET, baseUrl: base });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps submitted → queued, processing → running, succeed → the video URL, under the kind\'s path', async () => {
    const { providerTaskId } = await adapter.submit(kling({ prompt: 'a fox [sim:queue=1,success_after=2]', aspectRatio: '9:16', durationSeconds: 10 }));
    expect(providerTaskId).toMatch(/^text2video\/\d+$/);
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus])).toEqual([
      ['queued', 'submitted'],
      ['running', 'processing'],
      ['succeeded', 'succeed'],
    ]);
    const res = await adapter.fetchOutput(seen[2].outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    res.body.destroy();
    const id = providerTaskId.split('/')[1];
    expect(sim.ctx.getTask('kling', id)!.request).toMatchObject({ model_name: MODEL, aspect_ratio: '9:16', duration: '10', mode: 'std', external_task_id: expect.any(String) });
    // Read under the other kind's path, the task does not exist.
    expect((await providerError(() => adapter.check(`image2video/${id}`))).kind).toBe('not_found');
  });

  it('sends an image as image2video: a URL as it is, a data: URL as bare base64; 1080p as mode pro', async () => {
    const linked = await adapter.submit(kling({ imageUrl: 'https://example.com/a.png', resolution: '1080p' }));
    expect(linked.providerTaskId).toMatch(/^image2video\//);
    expect(sim.ctx.getTask('kling', linked.providerTaskId.split('/')[1])!.request).toMatchObject({ image: 'https://example.com/a.png', mode: 'pro' });
    const inline = await adapter.submit(kling({ imageUrl: 'data:image/png;base64,iVBORw0KGgo=' }));
    const sent = sim.ctx.getTask('kling', inline.providerTaskId.split('/')[1])!.request;
    expect(sent.image).toBe('iVBORw0KGgo=');
    expect(sent).not.toHaveProperty('aspect_ratio');
  });

  it('posts callbacks that name the task, whose kind rides in the callback URL', async () => {
    const { providerTaskId } = await adapter.submit(kling({ prompt: 'a fox [sim:success_after=1]', callbackUrl: sink.url }));
    const id = providerTaskId.split('/')[1];
    const mine = () => sink.received.filter((r) => JSON.parse(r.body).task_id === id);
    await sink.waitFor(() => mine().some((r) => JSON.parse(r.body).task_status === 'succeed'));
    const last = mine().at(-1)!;
    expect(adapter.verifyCallback(last.headers, last.body, last.query)).toEqual({ providerTaskId, signed: false });
    expect(adapter.verifyCallback(last.headers, last.body)).toBeNull();
    expect(adapter.verifyCallback(last.headers, last.body, 'kling_kind=../x')).toBeNull();
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation_rejected', '1301', false],
    ['[sim:reject=400]', 'validation_failed', '1200', false],
    ['[sim:reject=401]', 'unknown_provider_error', '1000', false],
    ['[sim:reject=402]', 'unknown_provider_error', '1101', false],
    ['[sim:rate_limit=1]', 'provider_rate_limited', '1302', true],
    ['[sim:server_error=1,server_status=503]', 'unknown_provider_error', '5001', true],
  ])('submit %s → %s', async (tag, jobCode, providerCode, retryable) => {
    const err = await providerError(() => adapter.submit(kling({ prompt: `a fox ${tag}` })));
    expect({ code: toJobErrorCode(err), providerCode: err.providerCode, retryable: err.retryable }).toEqual({ code: jobCode, providerCode, retryable });
    expect(err.detail).not.toContain(SECRET);
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected'],
    ['[sim:fail_code=x]', 'unknown_provider_error'],
    ['[sim:fail_code=x,fail_message="Failed to download the image from the url"]', 'asset_fetch_failed'],
    ['[sim:fail_code=x,fail_message="Image download failed"]', 'asset_fetch_failed'],
    ['[sim:no_output]', 'output_missing'],
  ])('task %s → failed %s', async (tag, jobCode) => {
    const last = await submitAndFinish(adapter, kling({ prompt: `a fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
  });

  it('against the simulator, signs with the simulator\'s key even when an operator secret is set', async () => {
    const built = createAdapters({ PROVIDER_SIM_URL: sim.url, PROVIDERS_ENABLED: 'kling', KLING_SECRET_KEY: 'an-operator-secret' }).get('kling')!;
    expect((await built.submit(kling())).providerTaskId).toMatch(/^text2video\//);
  });

  it('is refused what Kling refuses: a text task on an image-only model, a 7 s duration, an unknown model, a prompt over 2500', async () => {
    for (const req of [kling({ model: 'kling-v2-1' }), kling({ durationSeconds: 7 }), kling({ model: 'kling-v9' }), kling({ prompt: 'a'.repeat(2501) })]) {
      const err = await providerError(() => adapter.submit(req));
      expect({ kind: err.kind, providerCode: err.providerCode }).toEqual({ kind: 'invalid_request', providerCode: '1201' });
    }
  });

  it('signs each call with a fresh-enough token: a wrong secret, an expired or a not-yet-valid token is refused as auth', async () => {
    const wrong = new KlingAdapter({ apiKey: ACCESS, secretKey: 'not-the-secret', baseUrl: base });
    expect(await providerError(() => wrong.submit(kling()))).toMatchObject({ kind: 'auth', providerCode: '1002' });
    const late = new KlingAdapter({ apiKey: ACCESS, secretKey: SECRET, baseUrl: base, nowMs: () => Date.now() - 3600_000 });
    expect(await providerError(() => late.submit(kling()))).toMatchObject({ kind: 'auth', providerCode: '1004' });
    const early = new KlingAdapter({ apiKey: ACCESS, secretKey: SECRET, baseUrl: base, nowMs: () => Date.now() + 600_000 });
    expect(await providerError(() => early.submit(kling()))).toMatchObject({ kind: 'auth', providerCode: '1003' });
    const garbled = await fetch(`${base}/v1/videos/text2video/1`, { headers: { authorization: 'Bearer bnVsbA.bnVsbA.x' } });
    expect([garbled.status, ((await garbled.json()) as { code: number }).code]).toEqual([401, 1002]);
    const [head, payload] = klingToken(ACCESS, SECRET, 1_800_000_000).split('.');
    expect(JSON.parse(Buffer.from(head, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({ iss: ACCESS, exp: 1_800_001_800, nbf: 1_799_999_995 });
  });
});
