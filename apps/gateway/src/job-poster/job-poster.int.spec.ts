import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '@reelay/accounts';
import { jobStreamId, type Job } from '@reelay/contracts';
import { newJobId } from '@reelay/job-domain';
import { sniffImage } from '@reelay/media';
import { renderVideo } from '@reelay/providers';
import { createLogger } from '@reelay/service-kit';
import { LocalStorage, outputKey, posterKey } from '@reelay/storage';
import { createTestDatabase, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { createGatewayApp, type GatewayApp } from '../app';
import { GatewayConfig } from '../config/gateway-config';

// Renders a video and runs ffmpeg for its still; on 2 shared cores that can pass jest's 5 s default.
jest.setTimeout(30_000);

let db: TestDatabase;
let gw: GatewayApp;
let base: string;
let storageDir: string;
let storage: LocalStorage;
let key: string;
let video: Buffer;

const at = () => new Date().toISOString();
const call = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });

/** A job of `userId` that ran to `succeeded` with `file` as its stored video (or one still running, without `file`). */
async function job(file?: Buffer, userId = 'pia'): Promise<string> {
  const jobId = newJobId();
  await gw.deps.store.append(jobStreamId(jobId), 0, [
    {
      type: 'JobSubmitted',
      data: {
        jobId, userId, model: 'local-preview', provider: 'local', prompt: 'a fox', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 2,
        resolution: null, seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 0, requestHash: 'h', at: at(),
      },
    },
    { type: 'JobValidationStarted', data: { at: at() } },
    { type: 'JobValidated', data: { at: at(), referenceImage: null } },
    { type: 'JobSubmissionIntended', data: { provider: 'local', attempt: 1, submissionKey: 'k1', at: at() } },
    { type: 'JobProviderAccepted', data: { provider: 'local', providerTaskId: 't1', at: at() } },
    ...(file
      ? [{ type: 'JobSucceeded', data: { output: { url: `/v1/jobs/${jobId}/content`, contentType: 'video/mp4', bytes: file.length, durationSeconds: 2, width: 640, height: 360, sha256: 'f00d' }, creditsCharged: 0, at: at() } }]
      : []),
  ]);
  if (file) await storage.put(outputKey(jobId), file);
  return jobId;
}

beforeAll(async () => {
  db = await createTestDatabase('gwposter');
  storageDir = await mkdtemp(join(tmpdir(), 'reelay-gwposter-'));
  storage = new LocalStorage(storageDir);
  const rendered = await renderVideo({ prompt: 'a fox', seed: 3, durationSeconds: 2, aspectRatio: '16:9' }, join(storageDir, 'source.mp4'), { fontFile: null });
  video = await readFile(rendered.file);
  expect(rendered.width).toBe(640);
  const config = GatewayConfig.parse({
    DATABASE_URL: db.url, NATS_PREFIX: uniqueNatsPrefix('gwposter'), STORAGE_DIR: storageDir, RATE_LIMIT_BURST: '1000', DB_POOL_SIZE: '3',
    JOB_TOKEN_SECRET: 'a-job-token-secret-of-at-least-32-characters',
  });
  gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
  await gw.app.listen(0, '127.0.0.1');
  base = (await gw.app.getUrl()).replace('[::1]', '127.0.0.1');
  key = (await createApiKey(gw.deps.dataSource, 'pia', 'test')).key;
});

afterAll(async () => {
  await gw?.app.close();
  await db?.drop();
  await rm(storageDir, { recursive: true, force: true });
});

describe('GET /v1/jobs/{id}/poster', () => {
  it('makes a WebP still from the stored video on first request, keeps it, and answers 304 to a matching If-None-Match', async () => {
    const jobId = await job(video);
    expect(((await (await call(`/v1/jobs/${jobId}`)).json()) as Job).links?.poster).toBe(`/v1/jobs/${jobId}/poster`);

    const first = await call(`/v1/jobs/${jobId}/poster`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('etag')).toBe('"poster-v1-f00d"');
    const image = Buffer.from(await first.arrayBuffer());
    expect(sniffImage(image)).toEqual({ contentType: 'image/webp', width: 640, height: 360 });
    expect(existsSync(join(storageDir, posterKey(jobId)))).toBe(true);

    // Kept: read back without the video.
    await storage.remove(outputKey(jobId));
    const again = await call(`/v1/jobs/${jobId}/poster`);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer())).toEqual(image);

    const cached = await call(`/v1/jobs/${jobId}/poster`, { 'if-none-match': '"poster-v1-f00d"' });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
  });

  it('serves the same still as the OpenAI-compatible thumbnail, and still no spritesheet', async () => {
    const jobId = await job(video);
    const poster = Buffer.from(await (await call(`/v1/jobs/${jobId}/poster`)).arrayBuffer());
    const thumb = await call(`/v1/videos/${jobId}/content?variant=thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await thumb.arrayBuffer())).toEqual(poster);
    expect((await call(`/v1/videos/${jobId}/content?variant=spritesheet`)).status).toBe(404);
  });

  it('answers requests that come together, before any still is kept, all with the same still', async () => {
    const jobId = await job(video);
    const answers = await Promise.all([1, 2, 3, 4].map(() => call(`/v1/jobs/${jobId}/poster`)));
    const images = await Promise.all(answers.map(async (r) => [r.status, Buffer.from(await r.arrayBuffer()).toString('base64')]));
    expect(new Set(images.map((i) => JSON.stringify(i))).size).toBe(1);
    expect(images[0]![0]).toBe(200);
  });

  it('counts on /metrics the stills made and read back', async () => {
    const count = async (outcome: string) => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(new RegExp(`^reelay_posters_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const [made, kept] = [await count('made'), await count('kept')];
    const jobId = await job(video);
    await call(`/v1/jobs/${jobId}/poster`);
    await call(`/v1/jobs/${jobId}/poster`);
    expect([await count('made') - made, await count('kept') - kept]).toEqual([1, 1]);
  });

  it('answers with the token from POST /v1/jobs/{id}/token, without a key', async () => {
    const jobId = await job(video);
    const res = await fetch(`${base}/v1/jobs/${jobId}/token`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    const { posterUrl } = (await res.json()) as { posterUrl: string };
    expect(posterUrl).toMatch(new RegExp(`^/v1/jobs/${jobId}/poster\\?token=`));
    const viaToken = await fetch(`${base}${posterUrl}`);
    expect(viaToken.status).toBe(200);
    expect(viaToken.headers.get('content-type')).toBe('image/webp');
  });

  it('answers 404 before the job succeeded, for another user and for a file no still can be made of; 410 once the video was deleted', async () => {
    const running = await job();
    const notYet = await call(`/v1/jobs/${running}/poster`);
    expect(notYet.status).toBe(404);
    expect(((await notYet.json()) as { error: { code: string } }).error.code).toBe('not_found');

    const bobs = await job(video, 'bob');
    expect((await call(`/v1/jobs/${bobs}/poster`)).status).toBe(404);

    const garbled = await job(Buffer.from('not a video at all'));
    const refused = await call(`/v1/jobs/${garbled}/poster`);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe('No poster could be made from this video.');
    expect(existsSync(join(storageDir, posterKey(garbled)))).toBe(false);

    const deleted = await job(video);
    await gw.deps.store.append(jobStreamId(deleted), 6, [{ type: 'JobOutputDeleted', data: { reason: 'user', at: at() } }]);
    const gone = await call(`/v1/jobs/${deleted}/poster`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('output_deleted');
  });
});
