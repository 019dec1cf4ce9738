import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI, { BadRequestError, ConflictError, NotFoundError } from 'openai';
import { OpenAIErrorEnvelope, OpenAIVideo } from '@reelay/contracts';
import { startE2EStack, type E2EStack } from './e2e-stack';

jest.setTimeout(120_000);

let stack: E2EStack;
let client: OpenAI;
let key: string;

async function untilFinished(id: string): Promise<OpenAI.Videos.Video> {
  for (;;) {
    const video = await client.videos.retrieve(id);
    expect(OpenAIVideo.safeParse(video).success).toBe(true);
    if (video.status === 'completed' || video.status === 'failed') return video;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  stack = await startE2EStack('gwopenai', { RATE_LIMIT_BURST: '1000' });
  key = await stack.createKey('sdk-user');
  client = new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});

afterAll(() => stack?.stop());

describe('the official openai SDK against the gateway', () => {
  it('creates a video, polls it to completed and downloads a playable MP4 of the requested length', async () => {
    const created = await client.videos.create({ model: 'local-preview', prompt: 'a red fox running through snow', seconds: '4', size: '1280x720' });
    expect(created).toMatchObject({ object: 'video', model: 'local-preview', status: 'queued', seconds: '4', size: '1280x720', prompt: 'a red fox running through snow', error: null, remixed_from_video_id: null });
    expect(created.created_at).toBeGreaterThan(Date.now() / 1000 - 120);

    const done = await untilFinished(created.id);
    expect(done).toMatchObject({ id: created.id, status: 'completed', progress: 100, error: null });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);

    const content = await client.videos.downloadContent(created.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await content.arrayBuffer());
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // ffprobe (the same binary the renderer uses) reads it as a 1280x720 video of about 4 s.
    const dir = await mkdtemp(join(tmpdir(), 'reelay-sdk-'));
    try {
      await writeFile(join(dir, 'v.mp4'), bytes);
      const ffprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
      const { stdout } = await promisify(execFile)(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=width,height,codec_type', '-of', 'json', join(dir, 'v.mp4')]);
      const probe = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_type: string; width?: number; height?: number }[] };
      expect(Math.abs(Number(probe.format.duration) - 4)).toBeLessThanOrEqual(0.2);
      expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 1280, height: 720 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // The SDK's thumbnail variant: a WebP still of the same video.
    const thumbnail = await client.videos.downloadContent(created.id, { variant: 'thumbnail' });
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await thumbnail.arrayBuffer()).subarray(8, 12).toString('latin1')).toBe('WEBP');
  });

  it('lists videos in pages that the SDK follows with after=last_id', async () => {
    const own = new OpenAI({ apiKey: await stack.createKey('lister'), baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await own.videos.create({ model: 'local-preview', prompt: `clip ${i}`, seconds: '1' as '4', size: '480x480' as '1280x720' })).id);
    // The list comes from a read model: wait until it shows all three.
    for (let i = 0; (await own.videos.list({ limit: 100 })).data.length < 3; i++) {
      if (i > 100) throw new Error('list never showed the three videos');
      await new Promise((r) => setTimeout(r, 100));
    }
    const first = await own.videos.list({ limit: 2 });
    expect(first.data.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const seen: string[] = [];
    for await (const video of own.videos.list({ limit: 2 })) seen.push(video.id);
    expect(seen).toEqual([...ids].reverse());
    const asc = await own.videos.list({ limit: 10, order: 'asc' });
    expect(asc.data.map((v) => v.id)).toEqual(ids);
    expect(asc.has_more).toBe(false);
    // Other users' videos are not there, and not reachable.
    await expect(client.videos.retrieve(ids[0])).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers an invalid seconds with OpenAI\'s error envelope, naming the parameter', async () => {
    const err = await client.videos.create({ model: 'local-preview', prompt: 'too long', seconds: '11' as '4' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    const bad = err as InstanceType<typeof BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.param).toBe('seconds');
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.message).toContain("Invalid value: '11'");

    const raw = await fetch(`${stack.url}/v1/videos`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', seconds: 'four' }) });
    expect(raw.status).toBe(400);
    const body = OpenAIErrorEnvelope.parse(await raw.json());
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'seconds', code: 'invalid_request' });
  });

  it('refuses an input_reference upload (multipart) for a model without image input, naming the parameter', async () => {
    const png = new File([Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAYAAAAECAIAAAAiZtkUAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAEklEQVR4nGP4y8CAhtD5RAsBAJ2BF7nKI3aWAAAAAElFTkSuQmCC', 'base64')], 'ref.png', { type: 'image/png' });
    const err = await client.videos.create({ model: 'local-preview', prompt: 'from an image', seconds: '4', input_reference: png }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as InstanceType<typeof BadRequestError>).param).toBe('input_reference');
  });

  it('deletes an unfinished video by canceling it, and reports a finished one as kept', async () => {
    const created = await client.videos.create({ model: 'local-preview', prompt: 'cancel me', seconds: '10' as '4', size: '720x1280' });
    const deleted = await client.videos.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'video.deleted', deleted: true });
    const after = await untilFinished(created.id);
    expect(after).toMatchObject({ status: 'failed', error: { code: 'canceled' } });
    expect(await client.videos.delete(created.id)).toEqual({ id: created.id, object: 'video.deleted', deleted: false });
    await expect(client.videos.downloadContent(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('remixes a completed video with a new prompt: the rest as it was, remixed_from_video_id naming the source', async () => {
    const source = await client.videos.create({ model: 'local-preview', prompt: 'a kite over a field', seconds: '4', size: '720x1280' });
    const pending = await client.videos.remix(source.id, { prompt: 'a kite over a field at night' }).catch((e: unknown) => e);
    // Only a completed video can be remixed (unless the render was already done: then it is taken).
    if (pending instanceof Error) expect((pending as InstanceType<typeof ConflictError>).status).toBe(409);
    await untilFinished(source.id);
    const remix = await client.videos.remix(source.id, { prompt: 'a kite over a field at night' });
    expect(remix).toMatchObject({ object: 'video', status: 'queued', model: 'local-preview', seconds: '4', size: '720x1280', prompt: 'a kite over a field at night', remixed_from_video_id: source.id });
    expect(await untilFinished(remix.id)).toMatchObject({ status: 'completed', remixed_from_video_id: source.id });
    await expect(client.videos.remix(source.id, { prompt: '' })).rejects.toBeInstanceOf(BadRequestError);

    // With an Idempotency-Key a retried remix is the same video; another prompt under that key is refused, and not retried by the SDK.
    const retrying = new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 2 });
    const keyed = await retrying.videos.remix(source.id, { prompt: 'a kite at dawn' }, { headers: { 'Idempotency-Key': 'remix-1' } });
    expect((await retrying.videos.remix(source.id, { prompt: 'a kite at dawn' }, { headers: { 'Idempotency-Key': 'remix-1' } })).id).toBe(keyed.id);
    const conflict = await retrying.videos.remix(source.id, { prompt: 'a kite at noon' }, { headers: { 'Idempotency-Key': 'remix-1' } }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as InstanceType<typeof ConflictError>).headers?.get('x-should-retry')).toBe('false');
    // The key is checked before the body, as on regenerate: an empty prompt under a used key is another request.
    await expect(retrying.videos.remix(source.id, { prompt: '' }, { headers: { 'Idempotency-Key': 'remix-1' } })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses a body over the JSON limit with 413 in OpenAI\'s envelope', async () => {
    const big = await fetch(`${stack.url}/v1/videos`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x'.repeat(15 * 1024 * 1024) }) }); // over the JSON limit with room for a 10 MiB inline image
    expect(big.status).toBe(413);
    expect(OpenAIErrorEnvelope.parse(await big.json()).error).toMatchObject({ code: 'payload_too_large', type: 'invalid_request_error' });
  });
});
