import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '@reelay/accounts';
import { commandSubjects, jobStreamId, OpenAIErrorEnvelope, OpenAIVideo, type SubmitJobCommand } from '@reelay/contracts';
import { jobIdForIdempotencyKey, newJobId } from '@reelay/job-domain';
import { connectNats, type NatsConnection } from '@reelay/messaging';
import { createLogger } from '@reelay/service-kit';
import { assetKey } from '@reelay/storage';
import { createTestDatabase, TEST_NATS_URL, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { createGatewayApp, type GatewayApp } from '../app';
import { GatewayConfig } from '../config/gateway-config';

jest.setTimeout(20_000);

const JPEG_6x4 = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU4LjQyLjEwMAD/2wBDAAgEBAQEBAUFBQUFBQYGBgYGBgYGBgYGBgYHBwcICAgHBwcGBgcHCAgICAkJCQgICAgJCQoKCgwMCwsODg4RERT/xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAEAAYDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'base64',
);
const PNG_6x4 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAYAAAAECAIAAAAiZtkUAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAEklEQVR4nGP4y8CAhtD5RAsBAJ2BF7nKI3aWAAAAAElFTkSuQmCC', 'base64');

let db: TestDatabase;
let gw: GatewayApp;
let base: string;
let storageDir: string;
let intakeNc: NatsConnection;
let key: string;
const received: SubmitJobCommand[] = [];
const savedEnv = { ...process.env };

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${base}/v1/videos`, { method: 'POST', body, headers: { authorization: `Bearer ${key}`, ...headers } });
const postJson = (body: unknown) => post(JSON.stringify(body), { 'content-type': 'application/json' });
const openAIError = async (res: Response) => OpenAIErrorEnvelope.parse(await res.json()).error;
const retryHint = (res: Response) => ({ status: res.status, retry: res.headers.get('x-should-retry') });

/** A sora-2 request vera made under `idempotencyKey` while sora-2 was offered, as the log holds it. */
const recordSoraRequest = (idempotencyKey: string, prompt: string, aspectRatio: '16:9' | '9:16', durationSeconds = 4) => {
  const jobId = jobIdForIdempotencyKey('vera', idempotencyKey);
  return gw.deps.store.append(jobStreamId(jobId), 0, [{
    type: 'JobSubmitted',
    data: {
      jobId, userId: 'vera', model: 'sora-2', provider: 'openai', prompt, negativePrompt: null, aspectRatio, durationSeconds,
      resolution: '720p', seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 0, requestHash: 'h', at: new Date().toISOString(),
    },
  }]);
};

beforeAll(async () => {
  db = await createTestDatabase('gwvideos');
  const prefix = uniqueNatsPrefix('gwvid');
  storageDir = await mkdtemp(join(tmpdir(), 'reelay-gwvid-'));
  // A catalog with an image-to-video model (seedance) besides the local one; nothing calls the providers here.
  Object.assign(process.env, { PROVIDER_SIM_URL: 'http://127.0.0.1:9', PROVIDERS_ENABLED: 'local,seedance' });
  const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, ASSET_MAX_BYTES: '4096', JSON_BODY_LIMIT_BYTES: '2048', RATE_LIMIT_BURST: '1000', DB_POOL_SIZE: '3', COMMAND_TIMEOUT_MS: '1500' });
  gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
  await gw.app.listen(0, '127.0.0.1');
  base = (await gw.app.getUrl()).replace('[::1]', '127.0.0.1');
  key = (await createApiKey(gw.deps.dataSource, 'vera', 'test')).key;
  intakeNc = await connectNats(TEST_NATS_URL, 'fake-intake');
  intakeNc.subscribe(commandSubjects(prefix).submitJob, {
    callback: (_err, msg) => {
      const cmd = msg.json<SubmitJobCommand>();
      received.push(cmd);
      if (cmd.request.prompt === 'recorded, answered too late') return; // intake slower than COMMAND_TIMEOUT_MS
      const now = new Date().toISOString();
      const r = cmd.request;
      const job = {
        id: newJobId(), object: 'video.job', status: 'queued', message: 'Your video is waiting to start.', errorCode: null, model: r.model, provider: 'seedance', prompt: r.prompt,
        negativePrompt: null, aspectRatio: r.aspectRatio, durationSeconds: r.durationSeconds, resolution: r.resolution ?? null, seed: null, referenceImage: r.referenceImage ?? null,
        progress: null, output: null, credits: { estimated: 0, charged: null }, webhookUrl: null, metadata: {}, createdAt: now, updatedAt: now, completedAt: null, version: 1,
      };
      msg.respond(JSON.stringify({ ok: true, job }));
    },
  });
  await intakeNc.flush();
});

afterAll(async () => {
  await intakeNc?.drain();
  await gw?.app.close();
  await db?.drop();
  await rm(storageDir, { recursive: true, force: true });
  process.env = savedEnv;
});

describe('POST /v1/videos', () => {
  it('maps size and seconds, and stores a multipart input_reference as the user\'s asset', async () => {
    const form = new FormData();
    form.append('model', 'seedance-1-0-pro');
    form.append('prompt', 'a lighthouse at dusk');
    form.append('seconds', '5');
    form.append('size', '1080x1920');
    form.append('input_reference', new File([PNG_6x4], 'ref.png', { type: 'image/png' }));
    const res = await post(form);
    expect(res.status).toBe(200);
    const video = OpenAIVideo.parse(await res.json());
    expect(video).toMatchObject({ object: 'video', status: 'queued', model: 'seedance-1-0-pro', seconds: '5', size: '1080x1920', progress: 0 });
    const sent = received.at(-1)!;
    expect(sent.request).toMatchObject({ model: 'seedance-1-0-pro', durationSeconds: 5, aspectRatio: '9:16', resolution: '1080p', referenceImage: { assetId: expect.stringMatching(/^asset_/) } });
    const assetId = (sent.request.referenceImage as { assetId: string }).assetId;
    expect(await gw.deps.storage.stat(assetKey(assetId))).toMatchObject({ contentType: 'image/png', metadata: { userId: 'vera' } });
  });

  it('refuses a text field sent as a file part (curl -F prompt=@file), naming it, and makes no job', async () => {
    const before = received.length;
    const form = new FormData();
    form.append('model', 'local-preview');
    form.append('prompt', new File(['a lighthouse at dusk'], 'prompt.txt', { type: 'text/plain' }));
    const res = await post(form);
    expect(res.status).toBe(400);
    const error = await openAIError(res);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'prompt' });
    expect(received.length).toBe(before);
  });

  it('takes a file part sent without an image type (application/octet-stream) by its bytes, and still refuses what is no image', async () => {
    const withFile = (file: File) => {
      const form = new FormData();
      form.append('model', 'seedance-1-0-pro');
      form.append('prompt', 'a file with no declared type');
      form.append('seconds', '5');
      form.append('input_reference', file);
      return post(form);
    };
    const res = await withFile(new File([PNG_6x4], 'ref.png', { type: 'application/octet-stream' }));
    expect(res.status).toBe(200);
    const assetId = (received.at(-1)!.request.referenceImage as { assetId: string }).assetId;
    expect(await gw.deps.storage.stat(assetKey(assetId))).toMatchObject({ contentType: 'image/png' });
    const notImage = await withFile(new File([Buffer.from('just some text, not an image')], 'notes.txt'));
    expect(notImage.status).toBe(415);
    const mislabeled = await withFile(new File([PNG_6x4], 'ref.jpg', { type: 'image/jpeg' }));
    expect(mislabeled.status).toBe(415);
    // image/jpg, as browsers and SDKs write it, is image/jpeg here too (as in a data: URL).
    const jpg = await withFile(new File([JPEG_6x4], 'ref.jpg', { type: 'image/jpg' }));
    expect(jpg.status).toBe(200);
    const jpgAsset = (received.at(-1)!.request.referenceImage as { assetId: string }).assetId;
    expect(await gw.deps.storage.stat(assetKey(jpgAsset))).toMatchObject({ contentType: 'image/jpeg' });
  });

  it('answers 409 for an Idempotency-Key used before, even when the new body would be refused (as POST /v1/jobs does)', async () => {
    const idempotencyKey = 'used-then-invalid';
    await recordSoraRequest(idempotencyKey, 'a recorded request', '9:16');
    const before = received.length;
    for (const body of [{ prompt: 'a recorded request', size: '999x999' }, { prompt: '  ' }, { prompt: 'p', extra: 1 }]) {
      const res = await post(JSON.stringify(body), { 'content-type': 'application/json', 'idempotency-key': idempotencyKey });
      expect({ body, status: res.status }).toEqual({ body, status: 409 });
      expect(await openAIError(res)).toMatchObject({ code: 'idempotency_conflict' });
      // Under a key never used, the same body is refused for what is wrong with it.
      const fresh = await post(JSON.stringify(body), { 'content-type': 'application/json', 'idempotency-key': `${idempotencyKey}-fresh` });
      expect(fresh.status).toBe(400);
    }
    expect(received.length).toBe(before);
  });

  it('hands a keyed retry of a recorded request to intake even when today\'s catalog no longer offers its model (the key is checked first)', async () => {
    // Recorded when sora-2 was offered; this catalog (local, seedance) has no sora-2 now.
    const idempotencyKey = 'retry-after-retirement';
    await recordSoraRequest(idempotencyKey, 'a retired model', '16:9');
    const body = { model: 'sora-2-2025-10-06', prompt: 'a retired model', seconds: '4', size: '1280x720' };
    const before = received.length;
    const retried = await post(JSON.stringify(body), { 'content-type': 'application/json', 'idempotency-key': idempotencyKey });
    expect(retried.status).toBe(200);
    expect(received.slice(before).map((c) => [c.idempotencyKey, c.request.model])).toEqual([[idempotencyKey, 'sora-2']]);
    // Without a recorded request behind the key, the model is refused here as before.
    const fresh = await post(JSON.stringify(body), { 'content-type': 'application/json', 'idempotency-key': 'a-new-key' });
    expect(fresh.status).toBe(400);
    expect((await openAIError(fresh)).param).toBe('model');
    expect(received.length).toBe(before + 1);
  });

  it('gives a keyed retry without a model the model its recorded request got, though today\'s default is another', async () => {
    // Recorded when OpenAI's default, sora-2, was offered; this catalog's default is local-preview.
    const idempotencyKey = 'retry-without-model';
    await recordSoraRequest(idempotencyKey, 'no model named', '9:16');
    const before = received.length;
    const retried = await post(JSON.stringify({ prompt: 'no model named' }), { 'content-type': 'application/json', 'idempotency-key': idempotencyKey });
    expect(retried.status).toBe(200);
    expect(received.slice(before).map((c) => [c.idempotencyKey, c.request.model])).toEqual([[idempotencyKey, 'sora-2']]);
    // A new request without a model gets today's default.
    expect((await post(JSON.stringify({ prompt: 'no model named' }), { 'content-type': 'application/json', 'idempotency-key': 'another-key' })).status).toBe(200);
    expect(received.at(-1)!.request.model).toBe('local-preview');
  });

  it('gives a keyed retry without seconds the seconds its recorded request got, for a model no longer offered', async () => {
    const idempotencyKey = 'retry-without-seconds';
    await recordSoraRequest(idempotencyKey, 'no seconds named', '16:9', 8);
    const before = received.length;
    const retried = await post(JSON.stringify({ model: 'sora-2', prompt: 'no seconds named', size: '1280x720' }), { 'content-type': 'application/json', 'idempotency-key': idempotencyKey });
    expect(retried.status).toBe(200);
    expect(received.slice(before).map((c) => [c.idempotencyKey, c.request.durationSeconds])).toEqual([[idempotencyKey, 8]]);
  });

  it('sends a retried request with the same inline image as the same request, so its Idempotency-Key replays the job', async () => {
    const sent = [];
    for (const inline of ['multipart', 'multipart', 'data-url', 'data-url']) {
      const headers = { 'idempotency-key': `retry-${inline}` };
      if (inline === 'multipart') {
        const form = new FormData();
        form.append('model', 'seedance-1-0-pro');
        form.append('prompt', 'the same request, sent twice');
        form.append('seconds', '5');
        form.append('input_reference', new File([PNG_6x4], 'ref.png', { type: 'image/png' }));
        expect((await post(form, headers)).status).toBe(200);
      } else {
        const body = { model: 'seedance-1-0-pro', prompt: 'the same request, sent twice', seconds: '5', input_reference: { image_url: `data:image/png;base64,${PNG_6x4.toString('base64')}` } };
        expect((await post(JSON.stringify(body), { ...headers, 'content-type': 'application/json' })).status).toBe(200);
      }
      sent.push(received.at(-1)!);
    }
    expect(sent[1].request).toEqual(sent[0].request);
    expect(sent[3].request).toEqual(sent[2].request);
    expect(sent[2].request.referenceImage).toEqual(sent[0].request.referenceImage);
  });

  it('takes JSON with input_reference as an https URL, a data: URL (stored) or a file_id', async () => {
    const base64 = `data:image/png;base64,${PNG_6x4.toString('base64')}`;
    for (const [ref, expected] of [
      [{ image_url: 'https://example.com/a.png' }, { url: 'https://example.com/a.png' }],
      [{ image_url: base64 }, { assetId: expect.stringMatching(/^asset_/) }],
      [{ file_id: 'asset_abcdefgh12345678' }, { assetId: 'asset_abcdefgh12345678' }],
      // Schemes and the base64 marker in any case, and image/jpg for image/jpeg, as browsers and SDKs write them.
      [{ image_url: 'HTTPS://example.com/a.png' }, { url: 'HTTPS://example.com/a.png' }],
      [{ image_url: `DATA:IMAGE/PNG;BASE64,${PNG_6x4.toString('base64')}` }, { assetId: expect.stringMatching(/^asset_/) }],
      [{ image_url: `data:image/jpg;base64,${JPEG_6x4.toString('base64')}` }, { assetId: expect.stringMatching(/^asset_/) }],
    ] as const) {
      const res = await postJson({ model: 'seedance-1-0-pro', prompt: 'p', seconds: '5', size: '1280x720', input_reference: ref });
      expect(res.status).toBe(200);
      expect(received.at(-1)!.request.referenceImage).toEqual(expected);
    }
  });

  it('without seconds asks for OpenAI\'s 4 s, or the model\'s shortest video when it makes no 4 s one', async () => {
    const seedance = await postJson({ model: 'seedance-1-0-pro', prompt: 'no seconds given' });
    expect(seedance.status).toBe(200);
    expect(OpenAIVideo.parse(await seedance.json()).seconds).toBe('5');
    expect(received.at(-1)!.request.durationSeconds).toBe(5);
  });

  it('tells the SDK not to retry a create that timed out unless it carried an Idempotency-Key (it may have been recorded)', async () => {
    const keyless = await postJson({ model: 'seedance-1-0-pro', prompt: 'recorded, answered too late', seconds: '5' });
    expect(retryHint(keyless)).toEqual({ status: 503, retry: 'false' });
    const keyed = await post(JSON.stringify({ model: 'seedance-1-0-pro', prompt: 'recorded, answered too late', seconds: '5' }), { 'content-type': 'application/json', 'idempotency-key': `k-${newJobId()}` });
    expect(retryHint(keyed)).toEqual({ status: 503, retry: null });
  });

  it('answers bad parameters in OpenAI\'s envelope with the parameter named', async () => {
    const cases: [unknown, string][] = [
      [{ model: 'seedance-1-0-pro', prompt: 'p', seconds: '4' }, 'seconds'],
      [{ model: 'seedance-1-0-pro', prompt: 'p', seconds: '5', size: '1000x1000' }, 'size'],
      [{ model: 'nope', prompt: 'p' }, 'model'],
      [{ model: 'local-preview', prompt: '  ' }, 'prompt'],
      [{ model: 'local-preview', prompt: 'p', extra: 1 }, 'extra'],
      // Named as sent, not as what Object.prototype holds under that name.
      [{ model: 'local-preview', prompt: 'p', toString: 1 }, 'toString'],
      [{ model: 'local-preview', prompt: 'p', constructor: 1 }, 'constructor'],
      [{ model: 'local-preview', prompt: 'p', input_reference: { image_url: 'https://example.com/a.png' } }, 'input_reference'],
    ];
    for (const [body, param] of cases) {
      const res = await postJson(body);
      expect({ param, status: res.status }).toEqual({ param, status: 400 });
      const error = await openAIError(res);
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toBe(param);
    }
  });

  it('answers 413 for an input_reference over the asset limit, and 401 without a key, in OpenAI\'s envelope', async () => {
    const form = new FormData();
    form.append('prompt', 'p');
    form.append('model', 'seedance-1-0-pro');
    form.append('seconds', '5');
    form.append('input_reference', new File([Buffer.alloc(5000)], 'big.png', { type: 'image/png' }));
    const big = await post(form);
    expect(big.status).toBe(413);
    expect(await openAIError(big)).toMatchObject({ code: 'payload_too_large' });

    // Inline as a data: URL, the same limit holds for the image, not the JSON body's own.
    const inline = (bytes: number) => postJson({
      model: 'seedance-1-0-pro', prompt: 'p', seconds: '5',
      input_reference: { image_url: `data:image/png;base64,${Buffer.concat([PNG_6x4, Buffer.alloc(bytes - PNG_6x4.length)]).toString('base64')}` },
    });
    expect((await inline(4000)).status).toBe(200); // about 5,300 bytes of JSON
    const tooBig = await inline(4097);
    expect(tooBig.status).toBe(413);
    expect(await openAIError(tooBig)).toMatchObject({ code: 'payload_too_large' });

    const anonymous = await fetch(`${base}/v1/videos`);
    expect(anonymous.status).toBe(401);
    expect(await openAIError(anonymous)).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
    const shouted = await fetch(`${base}/V1/Videos`);
    expect(shouted.status).toBe(401);
    expect(await openAIError(shouted)).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
    const missing = await fetch(`${base}/v1/videos/job_01JD5Z8Q4W3N7M2K9P6R1T0VXY`, { headers: { authorization: `Bearer ${key}` } });
    expect(missing.status).toBe(404);
    expect(await openAIError(missing)).toMatchObject({ type: 'not_found_error', code: 'not_found' });
  });
});

describe('limits on /v1/videos', () => {
  it('limits requests per key with 429 + Retry-After in OpenAI\'s envelope', async () => {
    const config = GatewayConfig.parse({ DATABASE_URL: db.url, STORAGE_DIR: storageDir, RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.5', DB_POOL_SIZE: '2' });
    const second = await createGatewayApp(config, createLogger('gateway', 'silent'));
    try {
      await second.app.listen(0, '127.0.0.1');
      const url = (await second.app.getUrl()).replace('[::1]', '127.0.0.1');
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/videos`, { headers: { authorization: `Bearer ${key}` } });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await openAIError(limited!)).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    } finally {
      await second.app.close();
    }
  });
});
