import { LumaAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, startCallbackSink, submitAndFinish, type CallbackSink } from '../testing/adapter-harness';

describe('LumaAdapter against provider-sim (providers.md §4, §10)', () => {
  let sim: RunningProviderSim;
  let sink: CallbackSink;
  let adapter: LumaAdapter;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    sink = await startCallbackSink();
    adapter = new LumaAdapter({ apiKey: 'luma-test-key-abcdef', baseUrl: `${sim.url}/luma/dream-machine/v1` });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('maps queued → dreaming → completed with assets.video', async () => {
    const { providerTaskId } = await adapter.submit(request({ model: 'ray-2', prompt: 'fox [sim:success_after=2]', resolution: '720p', imageUrl: 'https://example.com/a.png' }));
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus])).toEqual([['running', 'dreaming'], ['succeeded', 'completed']]);
    const res = await adapter.fetchOutput(seen[1].outputUrl!);
    expect(res.status).toBe(200);
    res.body.destroy();
    expect(sim.ctx.getTask('luma', providerTaskId)!.request).toMatchObject({
      model: 'ray-2', aspect_ratio: '16:9', duration: '5s', resolution: '720p', keyframes: { frame0: { type: 'image', url: 'https://example.com/a.png' } },
    });
  });

  it('is refused a resolution Luma does not render (480p)', async () => {
    expect((await providerError(() => adapter.submit(request({ model: 'ray-2', resolution: '480p' })))).kind).toBe('invalid_request');
  });

  it('is refused a keyframe image sent inline as a data: URL (Luma fetches public URLs)', async () => {
    const err = await providerError(() => adapter.submit(request({ model: 'ray-2', prompt: 'fox, inline', imageUrl: 'data:image/png;base64,iVBORw0KGgo=' })));
    expect(err.kind).toBe('invalid_request');
    expect(err.httpStatus).toBe(400);
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation_rejected'],
    ['[sim:reject=400]', 'validation_failed'],
    ['[sim:reject=401]', 'unknown_provider_error'],
    ['[sim:rate_limit=1]', 'provider_rate_limited'],
    ['[sim:server_error=1]', 'unknown_provider_error'],
  ])('submit %s → %s', async (tag, jobCode) => {
    const err = await providerError(() => adapter.submit(request({ model: 'ray-2', prompt: `fox ${tag}` })));
    expect(toJobErrorCode(err)).toBe(jobCode);
    expect(err.detail).not.toContain('luma-test-key-abcdef');
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected'],
    ['[sim:fail_code="400: failed to moderate image"]', 'moderation_rejected'],
    ['[sim:fail_code="Failed to download keyframe image url"]', 'asset_fetch_failed'],
    ['[sim:fail_code="Internal error"]', 'unknown_provider_error'],
    ['[sim:no_output]', 'output_missing'],
  ])('task %s → failed %s', async (tag, jobCode) => {
    const last = await submitAndFinish(adapter, request({ model: 'ray-2', prompt: `fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
  });

  it('expired output is output_missing; unknown generation is not_found', async () => {
    const last = await submitAndFinish(adapter, request({ model: 'ray-2', prompt: 'fox [sim:expire_output]' }));
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
    expect((await providerError(() => adapter.check('00000000-0000-0000-0000-000000000000'))).kind).toBe('not_found');
  });

  it('callbacks (dreaming, completed, duplicate) are unsigned hints; the key is found again via callback_url', async () => {
    const req = request({ model: 'ray-2', prompt: 'fox [sim:success_after=2,callback_duplicate]', callbackUrl: `${sink.url}?job=j1` });
    const { providerTaskId } = await adapter.submit(req);
    const mine = (bodies: string[]) => bodies.map((b) => JSON.parse(b) as { id: string; state: string }).filter((b) => b.id === providerTaskId);
    await sink.waitFor((bodies) => mine(bodies).length >= 3);
    expect(mine(sink.received.map((r) => r.body)).map((b) => b.state)).toEqual(['dreaming', 'completed', 'completed']);
    expect(adapter.verifyCallback({}, sink.received.find((r) => JSON.parse(r.body).id === providerTaskId)!.body)).toEqual({ providerTaskId, signed: false });
    await expect(adapter.findBySubmissionKey(req.submissionKey)).resolves.toBe(providerTaskId);
    await expect(adapter.findBySubmissionKey('other-key')).resolves.toBeNull();
  });

  it('posts a callback again to a receiver answering anything but 200, a 204 included, 3 more times at most', async () => {
    const quiet = await startCallbackSink(204);
    try {
      const { providerTaskId } = await adapter.submit(request({ model: 'ray-2', prompt: 'fox [sim:success_after=1]', callbackUrl: quiet.url }));
      await quiet.waitFor((bodies) => bodies.filter((b) => (JSON.parse(b) as { state: string }).state === 'completed').length >= 4);
      await new Promise((r) => setTimeout(r, 300));
      const completed = sim.ctx.callbacks.deliveries.filter((d) => d.taskId === providerTaskId && d.phase === 'succeeded');
      expect(completed.map((d) => [d.attempt, d.httpStatus])).toEqual([[1, 204], [2, 204], [3, 204], [4, 204]]);
    } finally {
      await quiet.close();
    }
  });

  it('cannot tell past the generations it may scan, unless the list has reached ones made before the first try', async () => {
    const narrow = new LumaAdapter({ apiKey: 'luma-test-key', baseUrl: `${sim.url}/luma/dream-machine/v1`, reconcileLimit: 1 });
    for (let i = 0; i < 2; i++) await narrow.submit(request({ model: 'ray-2' }));
    expect((await providerError(() => narrow.findBySubmissionKey('never-submitted'))).kind).toBe('server');
    await expect(narrow.findBySubmissionKey('never-submitted', undefined, new Date(Date.now() + 10 * 60_000))).resolves.toBeNull();
  });
});
