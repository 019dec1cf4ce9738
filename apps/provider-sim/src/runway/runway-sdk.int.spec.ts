import RunwayML from '@runwayml/sdk';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';

describe('official @runwayml/sdk against provider-sim /runway', () => {
  let sim: RunningProviderSim;
  let client: RunwayML;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    client = new RunwayML({ apiKey: 'key_sim', baseURL: `${sim.url}/runway`, maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('imageToVideo.create → tasks.retrieve through THROTTLED and RUNNING to SUCCEEDED', async () => {
    const created = await client.imageToVideo.create({
      model: 'gen4_turbo', promptImage: 'https://example.com/a.png', promptText: 'fox [sim:queue=1,success_after=2,progress]', ratio: '1280:720', duration: 5,
    });
    expect(created.id).toEqual(expect.any(String));
    const statuses: string[] = [];
    let task = await client.tasks.retrieve(created.id);
    statuses.push(task.status);
    while (task.status !== 'SUCCEEDED' && statuses.length < 6) {
      task = await client.tasks.retrieve(created.id);
      statuses.push(task.status);
    }
    expect(statuses).toEqual(['THROTTLED', 'RUNNING', 'SUCCEEDED']);
    if (task.status !== 'SUCCEEDED') throw new Error('not succeeded');
    const res = await fetch(task.output[0]);
    expect(res.headers.get('content-type')).toBe('video/mp4');
  });

  it('textToVideo.create, FAILED with failureCode, delete (204) → CANCELLED', async () => {
    const failed = await client.textToVideo.create({ model: 'gen4.5', promptText: 'x [sim:moderation_after,success_after=1]', ratio: '1280:720', duration: 5 });
    const task = await client.tasks.retrieve(failed.id);
    expect(task).toMatchObject({ status: 'FAILED', failureCode: 'SAFETY.OUTPUT.VIDEO' });
    const running = await client.textToVideo.create({ model: 'gen4.5', promptText: 'x [sim:success_after=5]', ratio: '720:1280', duration: 5 });
    await client.tasks.delete(running.id);
    await expect(client.tasks.retrieve(running.id)).resolves.toMatchObject({ status: 'CANCELLED' });
  });

  it('maps HTTP errors to SDK error classes', async () => {
    await expect(client.textToVideo.create({ model: 'gen4.5', promptText: 'x [sim:rate_limit=1]', ratio: '1280:720', duration: 5 })).rejects.toBeInstanceOf(RunwayML.RateLimitError);
    await expect(client.textToVideo.create({ model: 'gen4.5', promptText: 'x', ratio: '1:1' as '1280:720', duration: 5 })).rejects.toBeInstanceOf(RunwayML.BadRequestError);
    await expect(client.tasks.retrieve('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(RunwayML.NotFoundError);
  });
});
