import { buffer } from 'node:stream/consumers';
import { ReplicateAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';
import { DEFAULT_REPLICATE_WEBHOOK_SECRET } from './replicate-sim';

const MODEL = 'bytedance/seedance-1-pro';
const TOKEN = 'r8_test_token_abcdefghijkl';

describe('ReplicateAdapter against provider-sim (providers.md §6, §10)', () => {
  let sim: RunningProviderSim;
  let adapter: ReplicateAdapter;
  let sink: CallbackSink;
  let base: string;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    sink = await startCallbackSink();
    base = `${sim.url}/replicate/v1`;
    adapter = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, webhookSecret: DEFAULT_REPLICATE_WEBHOOK_SECRET });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps starting → processing → succeeded and downloads the output', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:queue=1,success_after=2]' }));
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus])).toEqual([
      ['queued', 'starting'],
      ['running', 'processing'],
      ['succeeded', 'succeeded'],
    ]);
    const res = await adapter.fetchOutput(seen[2].outputUrl!);
    expect((await buffer(res.body)).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('creates official models by name and versioned models by version, with reelay settings as input', async () => {
    const named = await adapter.submit(request({ model: MODEL, durationSeconds: 10, aspectRatio: '9:16', resolution: '1080p', seed: 9, negativePrompt: 'blur', imageUrl: 'https://example.com/a.png' }));
    expect(sim.ctx.getTask('replicate', named.providerTaskId)!.request).toEqual({
      input: { prompt: 'a red fox in snow', duration: 10, aspect_ratio: '9:16', resolution: '1080p', seed: 9, negative_prompt: 'blur', image: 'https://example.com/a.png' },
      version: expect.any(String),
    });
    const version = 'a'.repeat(64);
    const pinned = await adapter.submit(request({ model: `${MODEL}:${version}` }));
    expect(sim.ctx.getTask('replicate', pinned.providerTaskId)!.request.version).toBe(version);
    const bare = await adapter.submit(request({ model: version }));
    expect(sim.ctx.getTask('replicate', bare.providerTaskId)!.request.version).toBe(version);
  });

  it('renames input fields for models that use other names', async () => {
    const renaming = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, inputNames: { image: 'first_frame_image', duration: 'seconds' } });
    const { providerTaskId } = await renaming.submit(request({ model: MODEL, imageUrl: 'https://example.com/a.png' }));
    expect(sim.ctx.getTask('replicate', providerTaskId)!.request.input).toMatchObject({ first_frame_image: 'https://example.com/a.png', seconds: 5 });
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation', 'moderation_rejected', true],
    ['[sim:reject=422]', 'invalid_request', 'validation_failed', false],
    ['[sim:reject=401]', 'auth', 'unknown_provider_error', false],
    ['[sim:reject=402]', 'billing', 'unknown_provider_error', false],
    ['[sim:reject=404]', 'not_found', 'unknown_provider_error', false],
    ['[sim:rate_limit=1,retry_after=3]', 'rate_limited', 'provider_rate_limited', true],
    ['[sim:server_error=1,server_status=500]', 'server', 'unknown_provider_error', true],
    ['[sim:server_error=1,server_status=504]', 'timeout', 'provider_timeout', true],
  ] as const)('submit %s → %s / %s', async (tag, kind, code, _) => {
    const err = await providerError(() => adapter.submit(request({ model: MODEL, prompt: `fox ${tag}` })));
    expect(err.kind).toBe(kind);
    expect(toJobErrorCode(err)).toBe(code);
    if (kind === 'rate_limited') expect(err.retryAfterMs).toBe(3000);
    expect(err.detail).not.toContain(TOKEN);
  });

  it('maps a missing prompt (422 invalid_fields) to validation_failed', async () => {
    const err = await providerError(() => adapter.submit(request({ model: MODEL, prompt: '' })));
    expect(toJobErrorCode(err)).toBe('validation_failed');
  });

  it.each([
    ['[sim:moderation_after]', 'moderation', 'moderation_rejected', 'E005'],
    ['[sim:fail_code=timeout,fail_message="Prediction timed out after 30 minutes"]', 'timeout', 'provider_timeout', undefined],
    ['[sim:fail_code=input,fail_message="Failed to download input file: HTTP 404"]', 'asset_fetch', 'asset_fetch_failed', undefined],
    ['[sim:fail_code=oom,fail_message="CUDA out of memory"]', 'server', 'unknown_provider_error', undefined],
    ['[sim:no_output]', 'output_missing', 'output_missing', undefined],
  ] as const)('prediction %s → failed %s / %s', async (tag, kind, code, providerCode) => {
    const last = await submitAndFinish(adapter, request({ model: MODEL, prompt: `fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(last.error!.kind).toBe(kind);
    expect(toJobErrorCode(last.error!)).toBe(code);
    expect(last.error!.providerCode).toBe(providerCode);
  });

  it('cancels a prediction', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:never_finish]' }));
    await adapter.check(providerTaskId);
    expect(await adapter.cancel(providerTaskId)).toBe('stopped');
    expect(await adapter.check(providerTaskId)).toMatchObject({ state: 'canceled', providerStatus: 'canceled' });
  });

  it('reports a cancel of a prediction that had succeeded as not a stop: the checks tell it ended (and was billed)', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=1]' }));
    expect((await pollToEnd(adapter, providerTaskId)).at(-1)!.state).toBe('succeeded');
    expect(await adapter.cancel(providerTaskId)).toBe('requested');
    expect((await adapter.check(providerTaskId)).state).toBe('succeeded');
  });

  it('with a Cancel-After deadline set, keeps a prediction canceled before its deadline canceled, not a timeout', async () => {
    const deadlined = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, cancelAfter: '1h' });
    const { providerTaskId } = await deadlined.submit(request({ model: MODEL, prompt: 'fox [sim:never_finish]' }));
    await deadlined.check(providerTaskId);
    await deadlined.cancel(providerTaskId);
    expect(await deadlined.check(providerTaskId)).toMatchObject({ state: 'canceled', providerStatus: 'canceled' });
  });

  it('maps a Cancel-After deadline hit before start (aborted) to provider_timeout', async () => {
    const deadlined = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, cancelAfter: '40ms' });
    const { providerTaskId } = await deadlined.submit(request({ model: MODEL, prompt: 'fox [sim:queue=50]' }));
    expect(sim.ctx.getTask('replicate', providerTaskId)!.extra.deadlineMs).toBeDefined();
    await new Promise((r) => setTimeout(r, 60));
    const result = await deadlined.check(providerTaskId);
    expect(result).toMatchObject({ state: 'failed', providerStatus: 'aborted' });
    expect(toJobErrorCode(result.error!)).toBe('provider_timeout');
  });

  it('maps a Cancel-After deadline hit while running (canceled) to provider_timeout too', async () => {
    const deadlined = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, cancelAfter: '40ms' });
    const { providerTaskId } = await deadlined.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=50]' }));
    await deadlined.check(providerTaskId);
    await deadlined.check(providerTaskId);
    await new Promise((r) => setTimeout(r, 60));
    const result = await deadlined.check(providerTaskId);
    expect(result).toMatchObject({ state: 'failed', providerStatus: 'canceled' });
    expect(toJobErrorCode(result.error!)).toBe('provider_timeout');
  });

  it('reports check failures as errors of the check', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:check_rate_limit=1]' }));
    expect((await providerError(() => adapter.check(providerTaskId))).kind).toBe('rate_limited');
    expect((await adapter.check(providerTaskId)).state).toBe('running');
    expect((await providerError(() => adapter.check('nosuchprediction'))).kind).toBe('not_found');
  });

  it('maps an output removed by data retention (its URL expired, the prediction data_removed) to output_missing', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:expire_output=300]' }));
    const seen = await pollToEnd(adapter, providerTaskId);
    const last = seen.at(-1)!;
    expect(last.state).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 400));
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
    const later = await adapter.check(providerTaskId);
    expect(later).toMatchObject({ state: 'failed', providerStatus: 'succeeded' });
    expect(toJobErrorCode(later.error!)).toBe('output_missing');
  });

  it('receives start and completed webhooks signed per Standard Webhooks, and rejects tampering', async () => {
    sink.received.length = 0;
    const { providerTaskId } = await adapter.submit(request({ model: MODEL, prompt: 'fox [sim:success_after=2,callback_duplicate]', callbackUrl: sink.url }));
    const task = sim.ctx.getTask('replicate', providerTaskId)!;
    expect(task.callbackUrl).toBe(sink.url);
    // Only this prediction's deliveries: earlier tests' late callbacks may still reach the shared sink.
    const mine = () => sink.received.filter((r) => JSON.parse(r.body).id === providerTaskId);
    await sink.waitFor(() => mine().filter((r) => JSON.parse(r.body).status === 'succeeded').length === 2);
    const statuses = mine().map((r) => JSON.parse(r.body).status as string);
    expect(statuses).toEqual(['processing', 'succeeded', 'succeeded']);
    for (const r of mine()) expect(adapter.verifyCallback(r.headers, r.body)).toEqual({ providerTaskId, signed: true });
    const last = mine()[1];
    expect(adapter.verifyCallback(last.headers, last.body.replace('succeeded', 'failed'))).toBeNull();
    const other = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base, webhookSecret: `whsec_${Buffer.from('another').toString('base64')}` });
    expect(other.verifyCallback(last.headers, last.body)).toBeNull();
    const unsigned = new ReplicateAdapter({ apiKey: TOKEN, baseUrl: base });
    expect(unsigned.verifyCallback({}, last.body)).toEqual({ providerTaskId, signed: false });
  });

  it('serves the webhook signing secret', async () => {
    const res = await fetch(`${base}/webhooks/default/secret`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await res.json()).toEqual({ key: DEFAULT_REPLICATE_WEBHOOK_SECRET });
  });
});
