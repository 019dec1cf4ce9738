import { MinimaxAdapter, toJobErrorCode } from '@reelay/providers';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pollToEnd, providerError, request, submitAndFinish } from '../testing/adapter-harness';

const KEY = 'key_minimax_test_123456';
const MODEL = 'MiniMax-Hailuo-02';
const hailuo = (over: Parameters<typeof request>[0] | object = {}) => request({ model: MODEL, durationSeconds: 6, resolution: '720p', ...over });

describe('MinimaxAdapter against provider-sim (providers.md §8)', () => {
  let sim: RunningProviderSim;
  let adapter: MinimaxAdapter;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0, requireAuth: true });
    adapter = new MinimaxAdapter({ apiKey: KEY, baseUrl: `${sim.url}/minimax` });
  });
  afterAll(() => sim.close());

  it('maps Preparing/Queueing → queued, Processing → running, Success → the file\'s download URL', async () => {
    const { providerTaskId } = await adapter.submit(hailuo({ prompt: 'a fox [sim:queue=2,success_after=2]', resolution: '1080p' }));
    expect(providerTaskId).toMatch(/^\d+$/);
    const seen = await pollToEnd(adapter, providerTaskId);
    expect(seen.map((s) => [s.state, s.providerStatus])).toEqual([
      ['queued', 'Preparing'],
      ['queued', 'Queueing'],
      ['running', 'Processing'],
      ['succeeded', 'Success'],
    ]);
    const res = await adapter.fetchOutput(seen[3].outputUrl!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    res.body.destroy();
    expect(sim.ctx.getTask('minimax', providerTaskId)!.request).toMatchObject({ model: MODEL, duration: 6, resolution: '1080P' });
  });

  it('sends a reference image as first_frame_image and 720p as MiniMax\'s 768P', async () => {
    const { providerTaskId } = await adapter.submit(hailuo({ imageUrl: 'https://example.com/a.png' }));
    expect(sim.ctx.getTask('minimax', providerTaskId)!.request).toMatchObject({ first_frame_image: 'https://example.com/a.png', resolution: '768P' });
  });

  it('an expired download URL is output_missing; the next check asks for a fresh one', async () => {
    const last = await submitAndFinish(adapter, hailuo({ prompt: 'a fox [sim:expire_output=300]' }));
    await new Promise((r) => setTimeout(r, 350));
    expect(toJobErrorCode(await providerError(() => adapter.fetchOutput(last.outputUrl!)))).toBe('output_missing');
    const fresh = await adapter.check(sim.ctx.submissions.at(-1)!.taskId!);
    const again = await adapter.fetchOutput(fresh.outputUrl!);
    again.body.destroy();
    expect(again.status).toBe(200);
  });

  it('a finished task whose file MiniMax no longer finds (files/retrieve 2013) is output_missing, not a refused request', async () => {
    const last = await submitAndFinish(adapter, hailuo({ prompt: 'a fox [sim:file_gone]' }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe('output_missing');
  });

  it('a status read refused with an unknown code (HTTP 200, base_resp 1000) is retryable: the next read goes on', async () => {
    const { providerTaskId } = await adapter.submit(hailuo({ prompt: 'a fox [sim:check_server_error=2,success_after=3]' }));
    for (let i = 0; i < 2; i++) {
      const err = await providerError(() => adapter.check(providerTaskId));
      expect({ kind: err.kind, providerCode: err.providerCode, retryable: err.retryable }).toEqual({ kind: 'server', providerCode: '1000', retryable: true });
    }
    expect(['queued', 'running']).toContain((await adapter.check(providerTaskId)).state);
  });

  it.each([
    ['[sim:moderation_submit]', 'moderation_rejected', '1026', false],
    ['[sim:reject=400]', 'validation_failed', '2013', false],
    ['[sim:reject=401]', 'unknown_provider_error', '1004', false],
    ['[sim:reject=402]', 'unknown_provider_error', '1008', false],
    ['[sim:rate_limit=1]', 'provider_rate_limited', '1002', true],
    ['[sim:server_error=1,server_status=503]', 'unknown_provider_error', '1000', true],
  ])('submit %s (HTTP 200 with base_resp, or a 5xx) → %s', async (tag, jobCode, providerCode, retryable) => {
    const err = await providerError(() => adapter.submit(hailuo({ prompt: `a fox ${tag}` })));
    expect({ code: toJobErrorCode(err), providerCode: err.providerCode, retryable: err.retryable }).toEqual({ code: jobCode, providerCode, retryable });
    expect(err.detail).not.toContain(KEY);
  });

  it.each([
    ['[sim:moderation_after]', 'moderation_rejected'],
    ['[sim:fail_code=1000]', 'unknown_provider_error'],
    ['[sim:no_output]', 'output_missing'],
  ])('task %s → failed %s', async (tag, jobCode) => {
    const last = await submitAndFinish(adapter, hailuo({ prompt: `a fox ${tag}` }));
    expect(last.state).toBe('failed');
    expect(toJobErrorCode(last.error!)).toBe(jobCode);
    expect(last.error!.retryable).toBe(false);
  });

  it('is refused what MiniMax refuses: 5 s, 1080P for 10 s, an image model without an image, an unknown model, no key', async () => {
    for (const req of [hailuo({ durationSeconds: 5 }), hailuo({ durationSeconds: 10, resolution: '1080p' }), hailuo({ model: 'I2V-01' }), hailuo({ model: 'hailuo-9' })]) {
      const err = await providerError(() => adapter.submit(req));
      expect({ kind: err.kind, providerCode: err.providerCode }).toEqual({ kind: 'invalid_request', providerCode: '2013' });
    }
    const anonymous = new MinimaxAdapter({ apiKey: '', baseUrl: `${sim.url}/minimax` });
    expect((await providerError(() => anonymous.submit(hailuo()))).kind).toBe('auth');
    expect((await providerError(() => adapter.check('404404404'))).kind).toBe('invalid_request');
  });
});
