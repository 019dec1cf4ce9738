import { ValidationError, createFalClient, type FalClient } from '@fal-ai/client';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';

const ENDPOINT = 'fal-ai/kling-video/v2.1/pro/text-to-video';

describe('@fal-ai/client against the fal emulation', () => {
  let sim: RunningProviderSim;
  let fal: FalClient;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    // The SDK builds https://queue.fal.run/... URLs; a request middleware points them at the sim.
    const target = `${sim.url}/fal`;
    fal = createFalClient({
      credentials: 'fal-sdk-key:secret',
      requestMiddleware: async (req) => ({ ...req, url: req.url.replace(/^https:\/\/queue\.fal\.run/, target) }),
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('queue.submit → status → subscribeToStatus → result', async () => {
    const submitted = await fal.queue.submit(ENDPOINT, { input: { prompt: 'a koi pond [sim:queue=1,success_after=2]', duration: '5' } });
    expect(submitted.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(submitted.status_url).toBe(`${sim.url}/fal/fal-ai/kling-video/requests/${submitted.request_id}/status`);
    const first = await fal.queue.status(ENDPOINT, { requestId: submitted.request_id });
    expect(first).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
    const updates: string[] = [];
    const done = await fal.queue.subscribeToStatus(ENDPOINT, {
      requestId: submitted.request_id,
      pollInterval: 10,
      logs: true,
      onQueueUpdate: (u) => updates.push(u.status),
    });
    expect(done.status).toBe('COMPLETED');
    expect(updates).toContain('IN_PROGRESS');
    const result = await fal.queue.result(ENDPOINT, { requestId: submitted.request_id });
    expect(result.requestId).toBe(submitted.request_id);
    const video = (result.data as { video: { url: string } }).video;
    expect((await fetch(video.url)).headers.get('content-type')).toBe('video/mp4');
  });

  it('queue.cancel stops a queued request', async () => {
    const { request_id } = await fal.queue.submit(ENDPOINT, { input: { prompt: 'slow [sim:never_finish]' } });
    await fal.queue.cancel(ENDPOINT, { requestId: request_id });
    expect((await fal.queue.status(ENDPOINT, { requestId: request_id })).status).toBe('COMPLETED');
  });

  it('result of a moderated request throws ValidationError with fal detail entries', async () => {
    const { request_id } = await fal.queue.submit(ENDPOINT, { input: { prompt: 'x [sim:moderation_after,success_after=1]' } });
    await fal.queue.status(ENDPOINT, { requestId: request_id });
    const err = await fal.queue.result(ENDPOINT, { requestId: request_id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).fieldErrors[0]).toMatchObject({ type: 'content_policy_violation', loc: ['body', 'prompt'] });
  });

  it('submit with webhookUrl passes fal_webhook', async () => {
    const { request_id } = await fal.queue.submit(ENDPOINT, { input: { prompt: 'hook [sim:never_finish]' }, webhookUrl: 'http://127.0.0.1:9/hook' });
    expect(sim.ctx.getTask('fal', request_id)!.callbackUrl).toBe('http://127.0.0.1:9/hook');
  });
});
