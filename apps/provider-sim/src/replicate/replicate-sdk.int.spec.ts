import Replicate, { validateWebhook } from 'replicate';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { startCallbackSink, type CallbackSink } from '../testing/adapter-harness';

describe('replicate SDK against the Replicate emulation', () => {
  let sim: RunningProviderSim;
  let sink: CallbackSink;
  let replicate: Replicate;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    sink = await startCallbackSink();
    replicate = new Replicate({ auth: 'r8_sdk_test_token', baseUrl: `${sim.url}/replicate/v1` });
  });
  afterAll(async () => {
    await sim.close();
    await sink.close();
  });

  it('predictions.create by model, then get until succeeded', async () => {
    let prediction = await replicate.predictions.create({ model: 'bytedance/seedance-1-pro', input: { prompt: 'otter [sim:success_after=2]', duration: 5 } });
    expect(prediction.status).toBe('starting');
    expect(prediction.urls.get).toBe(`${sim.url}/replicate/v1/predictions/${prediction.id}`);
    for (let i = 0; i < 5 && !['succeeded', 'failed', 'canceled'].includes(prediction.status); i++) prediction = await replicate.predictions.get(prediction.id);
    expect(prediction.status).toBe('succeeded');
    expect(typeof prediction.output).toBe('string');
    const video = await fetch(prediction.output as string);
    expect(video.headers.get('content-type')).toBe('video/mp4');
  });

  it('predictions.create by version with wait (Prefer: wait=N) returns the finished prediction', async () => {
    const prediction = await replicate.predictions.create({ version: 'b'.repeat(64), input: { prompt: 'heron [sim:success_after=2]' }, wait: 5 });
    expect(prediction.status).toBe('succeeded');
    expect(prediction.version).toBe('b'.repeat(64));
  });

  it('predictions.cancel cancels', async () => {
    const prediction = await replicate.predictions.create({ model: 'bytedance/seedance-1-pro', input: { prompt: 'owl [sim:never_finish]' } });
    const canceled = await replicate.predictions.cancel(prediction.id);
    expect(canceled.status).toBe('canceled');
  });

  it('reports failed predictions with their error text', async () => {
    let prediction = await replicate.predictions.create({ model: 'google/veo-3.1', input: { prompt: 'x [sim:moderation_after,success_after=1]' } });
    prediction = await replicate.predictions.get(prediction.id);
    expect(prediction.status).toBe('failed');
    expect(String(prediction.error)).toContain('(E005)');
  });

  it('throws ApiError on a validation error', async () => {
    await expect(replicate.predictions.create({ model: 'a/b', input: { prompt: '' } })).rejects.toMatchObject({ response: { status: 422 } });
  });

  it('webhooks validate with the SDK and the secret it fetches', async () => {
    const { key } = await replicate.webhooks.default.secret.get();
    await replicate.predictions.create({
      model: 'bytedance/seedance-1-pro',
      input: { prompt: 'crane [sim:success_after=1]' },
      webhook: sink.url,
      webhook_events_filter: ['completed'],
    });
    await sink.waitFor((bodies) => bodies.some((b) => JSON.parse(b).status === 'succeeded'));
    const [delivery] = sink.received;
    expect(sink.received).toHaveLength(1); // `start` was filtered out
    const h = delivery.headers as Record<string, string>;
    const valid = await validateWebhook({ id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'], body: delivery.body, secret: key });
    expect(valid).toBe(true);
  });
});
