import { RunwayAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, submitAndFinish } from '../testing/adapter-harness';

describe('RunwayAdapter against provider-sim (providers.md §3, §10)', () => {
  let sim: RunningProviderSim;
  let adapter: RunwayAdapter;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0, deletedTaskRead: 'not_found' });
    adapter = new RunwayAdapter({ apiKey: 'key_runway_test_123456', baseUrl: `${sim.url}/runway` });
  });
  afterAll(() => sim.close());

  it('maps PENDING/THROTTLED → queued (delayed), RUNNING with progress, SUCCEEDED with fresh output URLs', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'gen4_turbo', prompt: 'fox [sim:queue=2,success_after=2,progress]', imageUrl: 'https://example.com/a.png' }));
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus, s.delayed ?? false])).toEqual([
      ['queued', 'THROTTLED', true],
      ['queued', 'THROTTLED', true],
      ['running', 'RUNNING', false],
      ['succeeded', 'SUCCEEDED', false],
    ]);
    expect(seen[2].progress).toBeCloseTo(0.5);
    expect(seen).toHaveLength(4);
    const res = await adapter.fetchOutput(seen[3].outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    res.body.destroy();
    const task = sim.ctx.getTask('runway', providerTaskId)!;
    expect(task.request).toMatchObject({ model: 'gen4_turbo', ratio: '1280:720', duration: 5, promptImage: 'https://example.com/a.png' });
  });

  it('text-to-video uses /v1/text_to_video with the ratios Runway takes there; 960:960 only from an image', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'gen4.5', aspectRatio: '9:16' }));
    expect(sim.ctx.getTask('runway', providerTaskId)!.request.ratio).toBe('720:1280');
    const square = await adapter.submit(request({ model: 'gen4.5', aspectRatio: '1:1', imageUrl: 'https://example.com/a.png' }));
    expect(sim.ctx.getTask('runway', square.providerTaskId)!.request).toMatchObject({ ratio: '960:960', promptImage: 'https://example.com/a.png' });
    for (const req of [request({ model: 'gen4.5', aspectRatio: '1:1' }), request({ model: 'veo3.1', aspectRatio: '1:1', imageUrl: 'https://example.com/a.png' }), request({ model: 'gen4_turbo' })]) {
      expect((await providerError(() => adapter.submit(req))).kind).toBe('invalid_request');
    }
  });

  it('takes an image as an https link or a data URI, and refuses a plain http link as Runway does', async () => {
    const dataUri = 'data:image/png;base64,iVBORw0KGgo=';
    const inline = await adapter.submit(request({ model: 'gen4.5', imageUrl: dataUri }));
    expect(sim.ctx.getTask('runway', inline.providerTaskId)!.request.promptImage).toBe(dataUri);
    expect((await providerError(() => adapter.submit(request({ model: 'gen4.5', imageUrl: 'http://reelay.local:3000/v1/assets/a/content' })))).kind).toBe('invalid_request');
    for (const ipLiteral of ['https://203.0.113.7/a.png', 'https://[2001:db8::1]:8443/a.png']) {
      expect((await providerError(() => adapter.submit(request({ model: 'gen4.5', imageUrl: ipLiteral })))).kind).toBe('invalid_request');
    }
  });

  it('refuses a data URI over 5 MB as Runway does, which is why the adapter states the limit', async () => {
    const prefix = 'data:image/png;base64,';
    const atLimit = prefix + 'A'.repeat(5_000_000 - prefix.length);
    expect(await adapter.submit(request({ model: 'gen4.5', imageUrl: atLimit }))).toHaveProperty('providerTaskId');
    expect((await providerError(() => adapter.submit(request({ model: 'gen4.5', imageUrl: `${atLimit}AAAA` })))).kind).toBe('invalid_request');
    expect(adapter.capabilities.dataUrlMaxLength).toBe(5_000_000);
  });

  it('a 429 without a documented Retry-After leaves the wait to reelay\'s own backoff', async () => {
    const err = await providerError(() => adapter.submit(request({ model: 'gen4.5', prompt: 'fox [sim:rate_limit=1]' })));
    expect({ kind: err.kind, retryAfterMs: err.retryAfterMs }).toEqual({ kind: 'rate_limited', retryAfterMs: undefined });
  });

  it('the simulator refuses what Runway refuses: gen4_turbo from text, a text-to-video square, veo3.1 for 5 s, an unknown model, a prompt over 1000', async () => {
    const post = (path: string, body: Record<string, unknown>) =>
      fetch(`${sim.url}/runway/v1/${path}`, { method: 'POST', headers: { authorization: 'Bearer key_runway_test_123456', 'x-runway-version': '2024-11-06', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = { promptText: 'a fox', ratio: '1280:720', duration: 5 };
    for (const [path, body] of [
      ['text_to_video', { ...text, model: 'gen4_turbo' }],
      ['text_to_video', { ...text, model: 'gen4.5', ratio: '960:960' }],
      ['text_to_video', { ...text, model: 'veo3.1' }],
      ['text_to_video', { ...text, model: 'gen9' }],
      ['text_to_video', { ...text, model: 'gen4.5', promptText: 'a'.repeat(1001) }],
    ] as const) {
      const res = await post(path, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(await res.json()).toEqual({ error: expect.stringContaining('Validation of body failed') });
    }
    expect((await post('text_to_video', { ...text, model: 'veo3.1', duration: 8 })).status).toBe(200);
    expect((await post('image_to_video', { ...text, model: 'gen4_turbo', ratio: '960:960', promptImage: 'https://example.com/a.png' })).status).toBe(200);
  });

  it('expired output URL is output_missing; re-checking gives a fresh URL', async () => {
    const last = await submitAndFinish(adapter, request({ model: 'gen4.5', prompt: 'fox [sim:expire_output=300]' }));
    await new Promise((r) => setTimeout(r, 350));
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
    const id = sim.ctx.submissions.at(-1)!.taskId!;
    const fresh = await adapter.check(id);
    const again = await adapter.fetchOutput(fresh.outputUrl!);
    again.body.destroy();
    expect(again.status).toBe(200);
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation_rejected'],
    ['[sim:reject=400]', 'validation_failed'],
    ['[sim:reject=400:asset]', 'asset_fetch_failed'],
    ['[sim:reject=401]', 'unknown_provider_error'],
    ['[sim:reject=404]', 'unknown_provider_error'],
    ['[sim:rate_limit=1,retry_after=4]', 'provider_rate_limited'],
    ['[sim:server_error=1,server_status=502]', 'unknown_provider_error'],
    ['[sim:server_error=1,server_status=503]', 'unknown_provider_error'],
    ['[sim:server_error=1,server_status=504]', 'provider_timeout'],
  ])('submit %s → %s', async (tag, jobCode) => {
    const err = await providerError(() => adapter.submit(request({ model: 'gen4.5', prompt: `fox ${tag}` })));
    expect(toJobErrorCode(err)).toBe(jobCode);
    expect(err.detail).not.toContain('key_runway_test_123456');
    if (jobCode === 'provider_rate_limited') expect(err.retryAfterMs).toBe(4000);
    if (tag.includes('server_error')) expect(err.retryable).toBe(true);
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected', false],
    ['[sim:fail_code=SAFETY.INPUT.TEXT]', 'moderation_rejected', false],
    ['[sim:fail_code=INPUT_PREPROCESSING.SAFETY.TEXT]', 'moderation_rejected', false],
    ['[sim:fail_code=INTERNAL.BAD_OUTPUT.CODE01]', 'output_missing', true],
    ['[sim:fail_code=ASSET.INVALID]', 'validation_failed', false],
    ['[sim:fail_code=INTERNAL]', 'unknown_provider_error', true],
    ['[sim:fail_code=INPUT_PREPROCESSING.INTERNAL]', 'unknown_provider_error', true],
    ['[sim:fail_code=THIRD_PARTY.UNAVAILABLE]', 'unknown_provider_error', true],
    ['[sim:no_output]', 'output_missing', false],
  ])('task %s → failed %s (retryable %s)', async (tag, jobCode, retryable) => {
    const last = await submitAndFinish(adapter, request({ model: 'gen4.5', prompt: `fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
    expect(last.error!.retryable).toBe(retryable);
  });

  it('cancels a running task (CANCELLED → canceled); deleted tasks read 404', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'gen4.5', prompt: 'fox [sim:success_after=5]' }));
    expect((await adapter.check(providerTaskId)).state).toBe('running');
    await adapter.cancel(providerTaskId);
    expect((await adapter.check(providerTaskId)).state).toBe('canceled');
    await adapter.cancel(providerTaskId); // a second DELETE deletes the finished record
    expect((await providerError(() => adapter.check(providerTaskId))).kind).toBe('not_found');
  });

  it('the sim rejects requests without X-Runway-Version, as the real API does', async () => {
    const res = await fetch(`${sim.url}/runway/v1/tasks/x`, { headers: { authorization: 'Bearer k' } });
    expect(res.status).toBe(400);
  });
});
