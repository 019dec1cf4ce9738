import OpenAI from 'openai';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pngHeaderDataUrl } from '../testing/png-header';

describe('official openai SDK against provider-sim /openai/v1', () => {
  let sim: RunningProviderSim;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    client = new OpenAI({ apiKey: 'sk-sim', baseURL: `${sim.url}/openai/v1`, maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('videos.create (multipart) → retrieve until completed → downloadContent', async () => {
    const video = await client.videos.create({ prompt: 'a fox [sim:success_after=2]', model: 'sora-2', seconds: '8', size: '1280x720' });
    expect(video).toMatchObject({ object: 'video', status: 'queued', model: 'sora-2', seconds: '8', size: '1280x720', error: null, completed_at: null });
    let current = video;
    for (let i = 0; i < 5 && current.status !== 'completed'; i++) current = await client.videos.retrieve(video.id);
    expect(current.status).toBe('completed');
    expect(current.progress).toBe(100);
    expect(current.expires_at).toEqual(expect.any(Number));
    const content = await client.videos.downloadContent(video.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await content.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('accepts input_reference with image_url as bracketed multipart keys', async () => {
    const video = await client.videos.create({ prompt: 'a fox', input_reference: { image_url: 'https://example.com/a.png' } } as OpenAI.Videos.VideoCreateParams);
    expect(sim.ctx.getTask('openai', video.id)!.request.input_reference).toEqual({ image_url: 'https://example.com/a.png' });
  });

  it("refuses an input_reference that is not exactly the video's size, as Sora does", async () => {
    const create = (imageUrl: string, size: OpenAI.Videos.VideoSize) =>
      client.videos.create({ prompt: 'a fox', size, input_reference: { image_url: imageUrl } } as OpenAI.Videos.VideoCreateParams);
    const refused = await create(pngHeaderDataUrl(800, 600), '1280x720').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, type: 'invalid_request_error', param: null, code: null });
    expect((refused as Error).message).toContain('Inpaint image must match the requested width and height');
    await expect(create(pngHeaderDataUrl(1280, 720), '720x1280')).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect((await create(pngHeaderDataUrl(720, 1280), '720x1280')).status).toBe('queued');
  });

  it('failed videos carry error.code; SDK error classes map from HTTP statuses', async () => {
    const video = await client.videos.create({ prompt: 'x [sim:moderation_after,success_after=1]' });
    const failed = await client.videos.retrieve(video.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'moderation_blocked' } });
    await expect(client.videos.create({ prompt: 'x [sim:moderation_submit]' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.videos.create({ prompt: 'x [sim:rate_limit=1]' })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(client.videos.retrieve('video_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(new OpenAI({ apiKey: 'sk', baseURL: `${sim.url}/openai/v1`, maxRetries: 0 }).videos.create({ prompt: 'x', seconds: '10' as '4' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('the SDK retries a 429 honouring Retry-After and then succeeds', async () => {
    const retrying = new OpenAI({ apiKey: 'sk-sim', baseURL: `${sim.url}/openai/v1`, maxRetries: 2 });
    const video = await retrying.videos.create({ prompt: 'x [sim:rate_limit=1,retry_after=0]' });
    expect(video.status).toBe('queued');
  });

  it('list paginates with after and delete removes finished videos', async () => {
    const a = await client.videos.create({ prompt: 'list a [sim:success_after=1]' });
    const b = await client.videos.create({ prompt: 'list b [sim:success_after=1]' });
    const ids: string[] = [];
    for await (const v of client.videos.list({ limit: 1 })) ids.push(v.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    await client.videos.retrieve(a.id);
    await expect(client.videos.delete(a.id)).resolves.toEqual({ id: a.id, object: 'video.deleted', deleted: true });
  });
});
