import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetSignatureValid } from '@reelay/storage';
import { DispatchHarness, PNG_1x1, writeAsset } from './testing/dispatch-harness';

jest.setTimeout(60_000);

const VEO = { model: 'veo-3.1', provider: 'veo', durationSeconds: 8 };

/**
 * A harness whose dispatch reads uploaded images from a storage directory of its own (`storageDir`,
 * set once the describe's setup ran), started before and removed after the describe's tests.
 */
function withUploads(env: Record<string, string>, moreEnv?: (h: DispatchHarness) => Promise<Record<string, string>>): { h: DispatchHarness; storageDir: string } {
  const uploads = { h: new DispatchHarness(), storageDir: '' };
  beforeAll(async () => {
    await uploads.h.start();
    uploads.storageDir = await mkdtemp(join(tmpdir(), 'reelay-dispatch-uploads-'));
    await uploads.h.startDispatch({ STORAGE_DIR: uploads.storageDir, ...env, ...(await moreEnv?.(uploads.h)) });
  });
  afterAll(async () => {
    await uploads.h.close();
    await rm(uploads.storageDir, { recursive: true, force: true });
  });
  return uploads;
}

/**
 * Veo takes reference images inline, so dispatch fetches the user's URL itself: under the SSRF
 * guard, since what the URL resolves or redirects to may have changed since intake checked it.
 */
describe('dispatch: reference images for a provider that takes them inline (real processes)', () => {
  const h = new DispatchHarness();
  let allowed: Awaited<ReturnType<DispatchHarness['imageHost']>>;
  let elsewhere: Awaited<ReturnType<DispatchHarness['imageHost']>>;

  beforeAll(async () => {
    await h.start();
    [allowed, elsewhere] = [await h.imageHost(), await h.imageHost()];
    await h.startDispatch({ PROVIDERS_ENABLED: 'veo', OUTBOUND_ALLOW_HOSTS: allowed.host, CIRCUIT_FAILURE_THRESHOLD: '0' });
  });
  afterAll(() => h.close());

  const submitted = async (jobId: string) => (await h.submissions('veo')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  it('fetches an allowed URL and submits the image inline', async () => {
    const jobId = await h.createValidatedJob({ ...VEO, prompt: 'a cat, moving', imageUrl: allowed.url });
    await h.waitForJob(jobId, (j) => j.status === 'running');
    expect(allowed.requests()).toBe(1);
    expect((await submitted(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
  });

  it('refuses a URL that no longer serves an image (it changed since validation): the job fails asset_fetch_failed and Veo is never called', async () => {
    allowed.serve('text/html', Buffer.from('<html><body>moved</body></html>'));
    try {
      const jobId = await h.createValidatedJob({ ...VEO, prompt: 'a cat, now a page', imageUrl: allowed.url });
      const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
      expect(job.errorCode).toBe('asset_fetch_failed');
      expect(await submitted(jobId)).toEqual([]);
    } finally {
      allowed.serve('image/png', PNG_1x1);
    }
  });

  it.each([
    ['a loopback address outside OUTBOUND_ALLOW_HOSTS', () => elsewhere.url],
    ['a private address', () => 'http://10.1.2.3/cat.png'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s: the job fails asset_fetch_failed and Veo is never called', async (_name, url) => {
    const jobId = await h.createValidatedJob({ ...VEO, prompt: 'a cat, refused', imageUrl: url() });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
    expect(job.errorCode).toBe('asset_fetch_failed');
    expect(await submitted(jobId)).toEqual([]);
    expect(elsewhere.requests()).toBe(0);
  });
});

/**
 * Providers that fetch images by URL (Luma here) get an uploaded image as a link to the gateway,
 * signed with the secret the gateway checks, when dispatch has PUBLIC_BASE_URL and ASSET_URL_SECRET.
 */
describe('dispatch: uploaded reference images as signed links (real processes)', () => {
  const secret = 'asset-url-secret-for-the-dispatch-test';
  const uploads = withUploads({ PROVIDERS_ENABLED: 'luma', PUBLIC_BASE_URL: 'https://reelay.example.com', ASSET_URL_SECRET: secret });
  const { h } = uploads;

  it('submits a link to GET /v1/assets/{id}/content whose signature the gateway accepts for a day', async () => {
    const assetId = 'asset_linkedreferenceimage01';
    await writeAsset(uploads.storageDir, assetId);
    const jobId = await h.createValidatedJob({ model: 'ray-2', provider: 'luma', prompt: 'a lighthouse, from an upload', durationSeconds: 5, assetId });
    const job = await h.waitForJob(jobId, (j) => j.status === 'running' || j.status === 'failed');
    expect(job.status).toBe('running');
    const tasks = (await (await fetch(`${h.sim.url}/_sim/tasks`)).json()) as { id: string; inputImage: string | null }[];
    const link = new URL(tasks.find((t) => t.id === job.providerTaskId)!.inputImage!);
    expect(`${link.origin}${link.pathname}`).toBe(`https://reelay.example.com/v1/assets/${assetId}/content`);
    const expires = link.searchParams.get('expires')!;
    expect(assetSignatureValid(secret, assetId, expires, link.searchParams.get('sig')!, new Date())).toBe(true);
    expect(Number(expires) * 1000 - Date.now()).toBeGreaterThan(23 * 3600_000);
  });
});

/**
 * Without PUBLIC_BASE_URL and ASSET_URL_SECRET dispatch cannot link to an upload, and Luma takes
 * no inline (`data:`) image: the job fails with a reason an operator can act on instead of Luma
 * being sent an image it cannot use. A user's own URL still goes through.
 */
describe('dispatch: uploaded reference images for a link-only provider without an asset signer (real processes)', () => {
  const uploads = withUploads({ PROVIDERS_ENABLED: 'luma', CIRCUIT_FAILURE_THRESHOLD: '0' });
  const { h } = uploads;

  const submitted = async (jobId: string) => (await h.submissions('luma')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  it('fails an uploaded image job with the missing settings named, and never calls Luma', async () => {
    const assetId = 'asset_unlinkablereferenceimg1';
    await writeAsset(uploads.storageDir, assetId);
    const jobId = await h.createValidatedJob({ model: 'ray-2', provider: 'luma', prompt: 'a lighthouse, from an upload', durationSeconds: 5, assetId });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed' || j.status === 'running');
    expect(job.status).toBe('failed');
    expect(job.errorCode).toBe('unknown_provider_error');
    const failed = (await h.events(jobId)).find((e) => e.type === 'JobFailed')!;
    expect((failed.data as { detail: string }).detail).toContain('PUBLIC_BASE_URL and ASSET_URL_SECRET');
    expect((await h.events(jobId)).map((e) => e.type)).not.toContain('JobSubmissionIntended');
    expect(await submitted(jobId)).toEqual([]);
  });

  it("still submits a user's own image URL", async () => {
    const jobId = await h.createValidatedJob({ model: 'ray-2', provider: 'luma', prompt: 'a lighthouse, from a link', durationSeconds: 5, imageUrl: 'https://images.example.com/lighthouse.png' });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed' || j.status === 'running');
    expect(job.status).toBe('running');
    expect((await submitted(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
  });
});

/**
 * Runway fetches image links over HTTPS only: with a plain-http PUBLIC_BASE_URL (npm start, compose,
 * the dev overlay) an upload goes to it inline, as a `data:` URI, not as a link it would refuse.
 */
describe('dispatch: uploaded reference images for an https-only provider behind a plain-http address (real processes)', () => {
  const s3Like = { url: '', requests: () => 0 };
  const uploads = withUploads({ PROVIDERS_ENABLED: 'runway', PUBLIC_BASE_URL: 'http://localhost:3000', ASSET_URL_SECRET: 'asset-url-secret-for-the-dispatch-test' }, async (h) => {
    Object.assign(s3Like, await h.imageHost('binary/octet-stream'));
    return { OUTBOUND_ALLOW_HOSTS: new URL(s3Like.url).host };
  });
  const { h } = uploads;

  it('sends the image inline, and Runway takes it', async () => {
    const assetId = 'asset_inlineforhttpsonly0001';
    await writeAsset(uploads.storageDir, assetId);
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a lighthouse, from an upload', durationSeconds: 5, assetId });
    const job = await h.waitForJob(jobId, (j) => j.status === 'running' || j.status === 'failed');
    expect(job.status).toBe('running');
    const tasks = (await (await fetch(`${h.sim.url}/_sim/tasks`)).json()) as { id: string; inputImage: string | null }[];
    expect(tasks.find((t) => t.id === job.providerTaskId)!.inputImage).toMatch(/^data:image\//);
  });

  const submitted = async (jobId: string) => (await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  it("sends a user's image URL inline too, typed by its bytes: Runway refuses links that redirect, fail HEAD or name an IP address", async () => {
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a lighthouse, from a link', durationSeconds: 5, imageUrl: s3Like.url });
    const job = await h.waitForJob(jobId, (j) => j.status === 'running' || j.status === 'failed');
    expect(job.status).toBe('running');
    expect(s3Like.requests()).toBe(1);
    const tasks = (await (await fetch(`${h.sim.url}/_sim/tasks`)).json()) as { id: string; inputImage: string | null }[];
    // Served as binary/octet-stream (S3's default for an object uploaded without a type): sent as the PNG it is.
    expect(tasks.find((t) => t.id === job.providerTaskId)!.inputImage).toMatch(/^data:image\/png;base64,/);
  });

  it('fails an upload too large for a data: URI (Runway: 5 MB) with a message saying how large it may be, without calling Runway', async () => {
    const assetId = 'asset_inlinetoolargehttps0001';
    // 3.75 MB of bytes: a 5,000,022-character data: URI, just over Runway's limit.
    await writeAsset(uploads.storageDir, assetId, true, Buffer.concat([PNG_1x1, Buffer.alloc(3_750_000 - PNG_1x1.length)]));
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a lighthouse, from a large upload', durationSeconds: 5, assetId });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
    expect(job.errorCode).toBe('validation_failed');
    expect(job.failureMessage).toBe('The reference image is too large for gen4.5: upload one of at most 3.7 MB.');
    expect(await submitted(jobId)).toEqual([]);
  });
});
