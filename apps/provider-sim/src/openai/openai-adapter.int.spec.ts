import { buffer } from 'node:stream/consumers';
import { OpenAIAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';

const SECRET = `whsec_${Buffer.from('reelay-test-webhook-secret-0123456789').toString('base64')}`;

describe('OpenAIAdapter (Sora) against provider-sim (providers.md §2, §10)', () => {
  let sim: RunningProviderSim;
  let sink: CallbackSink;
  let adapter: OpenAIAdapter;

  beforeAll(async () => {
    sink = await startCallbackSink();
    sim = await startProviderSim({ port: 0, openaiWebhookUrl: sink.url, openaiWebhookSecret: SECRET });
    adapter = new OpenAIAdapter({ apiKey: 'sk-test-abcdef123456', baseUrl: `${sim.url}/openai/v1`, webhookSecret: SECRET });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps queued → in_progress (with progress) → completed and downloads content with auth', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'sora-2', prompt: 'fox [sim:success_after=4]', durationSeconds: 8 }));
    expect(providerTaskId).toMatch(/^video_/);
    const seen = await pollToEnd(adapter, providerTaskId);
    // With a webhook configured the sim also advances tasks on its callback timer, so under load a
    // check can skip a step: assert the shape (running with progress, then succeeded), not the count.
    const states = seen.map((s) => s.state);
    expect(states.at(-1)).toBe('succeeded');
    expect(states.slice(0, -1).every((s) => s === 'running')).toBe(true);
    expect(seen.length).toBeLessThanOrEqual(4);
    if (seen.length > 1) expect(seen[0].progress).toBeGreaterThan(0);
    const res = await adapter.fetchOutput(seen.at(-1)!.outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect((await buffer(res.body)).subarray(4, 8).toString('latin1')).toBe('ftyp');
    const task = sim.ctx.getTask('openai', providerTaskId)!;
    expect(task.request).toMatchObject({ seconds: '8', size: '1280x720' });
  });

  it('maps aspect ratio and resolution to Sora sizes; square is rejected locally', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'sora-2-pro', aspectRatio: '9:16', resolution: '1080p', durationSeconds: 4 }));
    expect(sim.ctx.getTask('openai', providerTaskId)!.request.size).toBe('1024x1792');
    const err = await providerError(() => adapter.submit(request({ model: 'sora-2', aspectRatio: '1:1', durationSeconds: 4 })));
    expect(toJobErrorCode(err)).toBe('validation_failed');
  });

  it.each([
    ['[sim:moderation_submit]', 4, 'moderation', 'moderation_blocked'],
    ['[sim:reject=400:content_policy_violation]', 4, 'moderation', 'content_policy_violation'],
    ['', 10, 'invalid_request', 'invalid_value'],
    ['[sim:reject=400:input_reference]', 4, 'invalid_request', 'input_reference'],
    ['[sim:reject=401:invalid_api_key]', 4, 'auth', 'invalid_api_key'],
    ['[sim:reject=404]', 4, 'not_found', 'invalid_request_error'],
    ['[sim:reject=410]', 4, 'not_found', 'invalid_request_error'],
    ['[sim:reject=429:insufficient_quota]', 4, 'billing', 'insufficient_quota'],
    ['[sim:rate_limit=1,retry_after=2]', 4, 'rate_limited', 'rate_limit_exceeded'],
    ['[sim:server_error=1,server_status=503]', 4, 'server', 'server_error'],
    ['[sim:reject=409]', 4, 'server', 'invalid_request_error'],
  ])('submit %s (seconds %s) → %s', async (tag, seconds, kind, providerCode) => {
    const err = await providerError(() => adapter.submit(request({ model: 'sora-2', prompt: `fox ${tag}`, durationSeconds: seconds })));
    expect(err.kind).toBe(kind);
    expect(err.providerCode).toBe(providerCode);
    expect(err.detail).not.toContain('sk-test-abcdef123456');
    if (kind === 'rate_limited') expect(err.retryAfterMs).toBe(2000);
    if (tag.includes('409')) expect(err.retryable).toBe(true);
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected', 'moderation_blocked'],
    ['[sim:fail_code=content_filter]', 'moderation_rejected', 'content_filter'],
    ['[sim:fail_code=internal_error]', 'unknown_provider_error', 'internal_error'],
    ['[sim:expire_output]', 'output_missing', undefined],
  ])('task %s → failed %s', async (tag, jobCode, providerCode) => {
    const last = await submitAndFinish(adapter, request({ model: 'sora-2', prompt: `fox ${tag}`, durationSeconds: 4 }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
    expect(last.error!.providerCode).toBe(providerCode);
  });

  it('completed without content is output_missing at download', async () => {
    const last = await submitAndFinish(adapter, request({ model: 'sora-2', prompt: 'fox [sim:no_output]', durationSeconds: 4 }));
    expect(last.state).toBe('succeeded');
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
  });

  it('check errors map: 5xx, unknown video', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'sora-2', prompt: 'fox [sim:check_server_error=1]', durationSeconds: 4 }));
    expect((await providerError(() => adapter.check(providerTaskId))).kind).toBe('server');
    expect((await providerError(() => adapter.check('video_missing'))).kind).toBe('not_found');
  });

  it('verifies Standard Webhooks signed project webhooks and rejects tampering', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'sora-2', prompt: 'fox [sim:success_after=1]', durationSeconds: 4 }));
    await sink.waitFor((bodies) => bodies.some((b) => b.includes(providerTaskId)));
    const delivery = sink.received.find((r) => r.body.includes(providerTaskId))!;
    expect(JSON.parse(delivery.body)).toMatchObject({ type: 'video.completed', data: { id: providerTaskId } });
    expect(adapter.verifyCallback(delivery.headers, delivery.body)).toEqual({ providerTaskId, signed: true });
    expect(adapter.verifyCallback(delivery.headers, delivery.body.replace(providerTaskId, 'video_other'))).toBeNull();
    expect(adapter.verifyCallback({ ...delivery.headers, 'webhook-timestamp': '1000' }, delivery.body)).toBeNull();
    const noSecret = new OpenAIAdapter({ apiKey: 'k', baseUrl: `${sim.url}/openai/v1` });
    expect(noSecret.verifyCallback(delivery.headers, delivery.body)).toBeNull();
  });
});
