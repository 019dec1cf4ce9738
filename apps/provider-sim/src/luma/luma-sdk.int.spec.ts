import LumaAI from 'lumaai';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';

describe('official lumaai SDK against provider-sim /luma/dream-machine/v1', () => {
  let sim: RunningProviderSim;
  let client: LumaAI;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    client = new LumaAI({ authToken: 'luma-sim', baseURL: `${sim.url}/luma/dream-machine/v1`, maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('generations.create (201) → get until completed → list → delete', async () => {
    const gen = await client.generations.create({ model: 'ray-2', prompt: 'fox [sim:success_after=2]', aspect_ratio: '16:9', duration: '5s', resolution: '720p' });
    expect(gen).toMatchObject({ state: 'queued', generation_type: 'video', model: 'ray-2' });
    let current = gen;
    for (let i = 0; i < 5 && current.state !== 'completed'; i++) current = await client.generations.get(gen.id!);
    expect(current.state).toBe('completed');
    const res = await fetch(current.assets!.video!);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const list = await client.generations.list({ limit: 10 });
    expect(list.generations.map((g) => g.id)).toContain(gen.id);
    await client.generations.delete(gen.id!);
    await expect(client.generations.get(gen.id!)).rejects.toBeInstanceOf(LumaAI.NotFoundError);
  });

  it('failed generations carry failure_reason; errors map to SDK classes', async () => {
    const gen = await client.generations.create({ model: 'ray-2', prompt: 'x [sim:moderation_after,success_after=1]' });
    await expect(client.generations.get(gen.id!)).resolves.toMatchObject({ state: 'failed', failure_reason: 'Advanced moderation failed' });
    await expect(client.generations.create({ model: 'ray-2', prompt: 'x [sim:rate_limit=1]' })).rejects.toBeInstanceOf(LumaAI.RateLimitError);
    await expect(new LumaAI({ authToken: '', baseURL: `${sim.url}/luma/dream-machine/v1`, maxRetries: 0 }).generations.get('x')).rejects.toBeInstanceOf(LumaAI.AuthenticationError);
  });
});
