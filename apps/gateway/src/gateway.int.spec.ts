import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createApiKey, revokeApiKey, webhookSecretFor } from '@reelay/accounts';
import { creditStreamId, jobStreamId, liveJobSubject, type Job } from '@reelay/contracts';
import { handle } from '@reelay/event-store';
import { creditsDecider, creditsLedgerFold, newJobId, type CreditsCommand } from '@reelay/job-domain';
import { connectNats, type NatsConnection } from '@reelay/messaging';
import { createLogger } from '@reelay/service-kit';
import { assetKey, LocalStorage, outputKey, signedAssetUrl } from '@reelay/storage';
import { createTestDatabase, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { createGatewayApp, type GatewayApp } from './app';
import { ApiKeyLookup } from './auth/api-key-lookup';
import { jobTokenSecret, signJobToken } from './job-token/job-token';
import { GatewayConfig } from './config/gateway-config';
import { JobStreamRegistry } from './job-stream/job-stream-registry';
import { JobStreamSession } from './job-stream/job-stream-session';

jest.setTimeout(20_000);

const PNG_6x4 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAYAAAAECAIAAAAiZtkUAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAEklEQVR4nGP4y8CAhtD5RAsBAJ2BF7nKI3aWAAAAAElFTkSuQmCC',
  'base64',
);

let db: TestDatabase;
let gw: GatewayApp;
let base: string;
let prefix: string;
let storageDir: string;
let intakeNc: NatsConnection;
let alice: string;
let bob: string;

const ASSET_URL_SECRET = 'asset-url-secret-for-the-gateway-test';
const iso = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

function submitted(jobId: string, userId: string, at = iso()) {
  return {
    type: 'JobSubmitted',
    data: {
      jobId, userId, model: 'local-ffmpeg', provider: 'local', prompt: 'a red fox running through snow', negativePrompt: null,
      aspectRatio: '16:9', durationSeconds: 5, resolution: '720p', seed: null, referenceImage: null, webhookUrl: null,
      metadata: {}, creditsEstimated: 0, requestHash: 'h', at,
    },
  };
}
const running = () => [
  { type: 'JobValidationStarted', data: { at: iso() } },
  { type: 'JobValidated', data: { at: iso(), referenceImage: null } },
  { type: 'JobSubmissionIntended', data: { provider: 'local', attempt: 1, submissionKey: 'k1', at: iso() } },
  { type: 'JobProviderAccepted', data: { provider: 'local', providerTaskId: 'task-secret', at: iso() } },
];
const succeeded = (bytes: number) => ({
  type: 'JobSucceeded',
  data: {
    output: { url: 'ignored', contentType: 'video/mp4', bytes, durationSeconds: 5, width: 1280, height: 720, sha256: 'abc' },
    creditsCharged: 0,
    at: iso(),
  },
});

async function createJob(userId: string, more: { type: string; data: unknown }[] = [], at?: string): Promise<string> {
  const jobId = newJobId();
  await gw.deps.store.append(jobStreamId(jobId), 0, [submitted(jobId, userId, at), ...more]);
  return jobId;
}

const call = (path: string, init: RequestInit & { key?: string | null } = {}) => {
  const { key = alice, headers, ...rest } = init;
  return fetch(`${base}${path}`, { ...rest, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(headers as Record<string, string>) } });
};
const postJson = (path: string, body: unknown, init: RequestInit & { key?: string | null } = {}) =>
  call(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

interface SseEvent {
  id: string;
  event: string;
  data: Job;
}

/** Response bodies in tests are read loosely typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (res: Response): Promise<any> => res.json();

/** Reads an SSE response to its end and returns the job events. */
async function readSse(res: Response, onEvent?: (e: SseEvent) => void): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
      if (fields.event !== 'job') continue;
      const e = { id: fields.id, event: fields.event, data: JSON.parse(fields.data) as Job };
      events.push(e);
      onEvent?.(e);
    }
  }
  return events;
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  db = await createTestDatabase('gateway');
  prefix = uniqueNatsPrefix('gw');
  storageDir = await mkdtemp(join(tmpdir(), 'reelay-gw-'));
  // An upload a crash cut off two hours ago, for the sweep at start (see 'storage' below).
  mkdirSync(join(storageDir, 'assets'));
  writeFileSync(join(storageDir, 'assets', 'asset_cut.1.2.3.tmp'), 'partial');
  utimesSync(join(storageDir, 'assets', 'asset_cut.1.2.3.tmp'), new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
  // The catalog offers the models of the configured providers (build-gateway reads process.env).
  Object.assign(process.env, { PROVIDER_SIM_URL: 'http://127.0.0.1:9', PROVIDERS_ENABLED: 'local' });
  const config = GatewayConfig.parse({
    DATABASE_URL: db.url,
    NATS_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    JSON_BODY_LIMIT_BYTES: '4096',
    ASSET_MAX_BYTES: '2048',
    COMMAND_TIMEOUT_MS: '2000',
    SSE_RECHECK_MS: '300',
    SSE_MAX_STREAMS_PER_USER: '3',
    RATE_LIMIT_BURST: '1000',
    WEBHOOK_MASTER_SECRET: 'test-master-secret-0123456789',
    ASSET_URL_SECRET,
    DB_POOL_SIZE: '4',
  });
  gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
  await gw.app.listen(0, '127.0.0.1');
  base = (await gw.app.getUrl()).replace('[::1]', '127.0.0.1');
  alice = (await createApiKey(gw.deps.dataSource, 'alice', 'test')).key;
  bob = (await createApiKey(gw.deps.dataSource, 'bob', 'test')).key;
  intakeNc = await connectNats('nats://127.0.0.1:4222', 'fake-intake');
});

afterAll(async () => {
  await intakeNc?.drain();
  await gw?.app.close();
  await db?.drop();
  await rm(storageDir, { recursive: true, force: true });
});

describe('a job stream whose log reads are slow', () => {
  it('queues at most one re-read at a time, so a slow spell leaves no backlog of reads behind it', async () => {
    const jobId = await createJob('alice');
    let slowMs = 60;
    let reads = 0;
    const store = new Proxy(gw.deps.store, {
      get(target, prop) {
        if (prop === 'readStream') {
          return async (...args: Parameters<typeof target.readStream>) => {
            reads++;
            if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
            return target.readStream(...args);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const session = new JobStreamSession({ jobId, after: 0, store, nc: gw.deps.nc, prefix, recheckMs: 10, heartbeatMs: 60_000, logger: createLogger('gateway', 'silent'), write: () => undefined, end: () => undefined });
    session.start();
    try {
      // Re-checks come every 10 ms while a read takes 60 ms: without coalescing, about 50 would queue up.
      await new Promise((r) => setTimeout(r, 600));
      slowMs = 0;
      await new Promise((r) => setTimeout(r, 20));
      const before = reads;
      await new Promise((r) => setTimeout(r, 100));
      // Once reads are fast again, one per re-check at most (about 10 here), not the backlog.
      expect(reads - before).toBeLessThan(30);
    } finally {
      session.close(false);
    }
  });
});

describe('storage', () => {
  it('removes what uploads cut off by a crash left in storage, at start', async () => {
    await eventually(async () => (existsSync(join(storageDir, 'assets', 'asset_cut.1.2.3.tmp')) ? undefined : true), 'abandoned upload swept');
  });
});

describe('auth and errors', () => {
  it('answers 401 with the envelope without a key or with an unknown one', async () => {
    for (const key of [null, 'rly_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'nonsense']) {
      const res = await call('/v1/jobs', { key });
      expect(res.status).toBe(401);
      expect((await body(res)).error.code).toBe('unauthorized');
    }
  });

  it('asks for a key on /v1 routes however the path is cased (the routing ignores case)', async () => {
    for (const path of ['/V1/models', '/v1/MODELS', '/V1/jobs', '/V1/webhooks/secret']) {
      const res = await call(path, { key: null });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
      expect((await body(res)).error.code).toBe('unauthorized');
    }
    expect((await call('/V1/jobs', { key: alice })).status).toBe(200);
  });

  it('answers unknown routes with a 404 envelope', async () => {
    for (const [path, key] of [['/v1/nope', alice], ['/nothing/here', null]] as const) {
      const res = await call(path, { key });
      expect(res.status).toBe(404);
      expect(await body(res)).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
    }
  });

  it('answers 400 with per-field details for a bad body, and for malformed JSON or a non-JSON type', async () => {
    const bad = await postJson('/v1/jobs', { model: 'local-ffmpeg', aspectRatio: '4:3', durationSeconds: 5, extra: 1 });
    expect(bad.status).toBe(400);
    const payload = await body(bad);
    expect(payload.error.code).toBe('invalid_request');
    const paths = payload.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['prompt', 'aspectRatio']));

    const malformed = await postJson('/v1/jobs', '{"model": ');
    expect(malformed.status).toBe(400);
    expect((await body(malformed)).error).toEqual({ code: 'invalid_request', message: 'The request body is not valid JSON.' });

    const text = await call('/v1/jobs', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(400);
  });

  it('answers 413 for bodies over the limits', async () => {
    const json = await postJson('/v1/jobs', { model: 'm', prompt: 'x'.repeat(5000), aspectRatio: '16:9', durationSeconds: 5 });
    expect(json.status).toBe(413);
    expect((await body(json)).error.code).toBe('payload_too_large');

    const upload = await call('/v1/assets', { method: 'POST', body: Buffer.concat([PNG_6x4, Buffer.alloc(3000)]), headers: { 'content-type': 'image/png' } });
    expect(upload.status).toBe(413);
    expect((await body(upload)).error.code).toBe('payload_too_large');
  });
});

describe('API key scope and expiry', () => {
  it('lets a read key read (and mint job tokens) but answers 403 forbidden to anything that changes something; an expired key is unknown', async () => {
    const reader = (await createApiKey(gw.deps.dataSource, 'alice', 'dashboard', undefined, { scope: 'read' })).key;
    const jobId = await createJob('alice', running());
    expect((await call(`/v1/jobs/${jobId}`, { key: reader })).status).toBe(200);
    expect((await call('/v1/jobs', { key: reader })).status).toBe(200);
    expect((await postJson(`/v1/jobs/${jobId}/token`, {}, { key: reader })).status).toBe(201);
    for (const [method, path, payload] of [
      ['POST', '/v1/jobs', { model: 'local-ffmpeg', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 }],
      ['POST', `/v1/jobs/${jobId}/cancel`, {}],
      ['POST', '/v1/jobs/cancel', { metadata: { orderId: 'A1' } }],
      ['POST', '/v1/jobs/regenerate-failed', { metadata: { orderId: 'A1' } }],
      ['POST', '/v1/webhooks/secret/rotate', {}],
      ['DELETE', `/v1/jobs/${jobId}/output`, undefined],
      ['POST', '/v1/webhooks/test', { url: 'https://example.com/hook' }],
    ] as const) {
      const res = payload === undefined ? await call(path, { key: reader, method }) : await postJson(path, payload, { key: reader, method });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect((await body(res)).error).toEqual({ code: 'forbidden', message: 'This API key can only read: submitting, cancelling or deleting needs a key with the full scope.' });
    }
    // The signing secret is read with a GET, but whoever holds it can forge the user's webhooks.
    const secret = await call('/v1/webhooks/secret', { key: reader });
    expect(secret.status).toBe(403);
    expect((await body(secret)).error).toEqual({ code: 'forbidden', message: 'This API key can only read: the webhook signing secret needs a key with the full scope.' });
    expect((await call(`/v1/jobs/${jobId}`)).status).toBe(200); // the job was left as it was
    expect((await body(await call(`/v1/jobs/${jobId}`))).status).toBe('running');

    const lapsed = (await createApiKey(gw.deps.dataSource, 'alice', 'old', undefined, { expiresAt: new Date(Date.now() - 1000) })).key;
    expect((await call('/v1/jobs', { key: lapsed })).status).toBe(401);
  });
});

describe('API key lookups', () => {
  it('answers lookups made at the same time with one statement, each with its own user', async () => {
    const ds = gw.deps.dataSource;
    const statements: string[] = [];
    const counting = new Proxy(ds, {
      get: (target, key) => (key === 'query' ? (sql: string, params?: unknown[]) => (statements.push(sql), target.query(sql, params)) : Reflect.get(target, key, target)),
    });
    const lookup = new ApiKeyLookup(counting);
    const keys = [alice, bob, 'rly_' + 'z'.repeat(32), alice, 'garbage'];
    expect(await Promise.all(keys.map(async (k) => (await lookup.ownerFor(k))?.userId ?? null))).toEqual(['alice', 'bob', null, 'alice', null]);
    expect(statements).toHaveLength(1);
  });

  it('refuses a revoked key at the next lookup: nothing is cached', async () => {
    const { key } = await createApiKey(gw.deps.dataSource, 'lookup-revoked');
    const lookup = new ApiKeyLookup(gw.deps.dataSource);
    expect((await lookup.ownerFor(key))?.userId).toBe('lookup-revoked');
    await revokeApiKey(gw.deps.dataSource, key);
    expect(await lookup.ownerFor(key)).toBeNull();
    expect((await call('/v1/jobs', { key })).status).toBe(401);
  });
});

describe('jobs', () => {
  it('submits through intake over NATS and answers 202 with the job', async () => {
    const received: unknown[] = [];
    const sub = intakeNc.subscribe(`${prefix}.cmd.submit-job`, {
      callback: (_err, msg) => {
        const cmd = msg.json<{ userId: string; request: { prompt: string; model: string } }>();
        received.push(cmd);
        if (cmd.request.model === 'no-such-model') {
          msg.respond(JSON.stringify({ ok: false, error: { code: 'unsupported_settings', message: 'This model cannot do that.', details: [{ path: 'model', message: 'unknown' }] } }));
          return;
        }
        const job = { id: newJobId(), object: 'video.job', status: 'queued', message: 'Your video is waiting to start.', errorCode: null, model: cmd.request.model, provider: 'local', prompt: cmd.request.prompt, negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5, resolution: null, seed: null, referenceImage: null, progress: null, output: null, credits: { estimated: 0, charged: null }, webhookUrl: null, metadata: {}, createdAt: iso(), updatedAt: iso(), completedAt: null, version: 1 };
        msg.respond(JSON.stringify({ ok: true, job }));
      },
    });
    await intakeNc.flush();
    try {
      const res = await postJson('/v1/jobs', { model: 'local-ffmpeg', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 }, { headers: { 'idempotency-key': 'key-1' } });
      expect(res.status).toBe(202);
      expect(res.headers.get('etag')).toBe('"1"');
      const job = await body(res);
      expect(job).toMatchObject({ object: 'video.job', status: 'queued', prompt: 'a fox' });
      expect(received[0]).toMatchObject({ userId: 'alice', idempotencyKey: 'key-1', request: { prompt: 'a fox' } });
      // No X-Request-Id sent: the one answered is the one the job is recorded with.
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(received[0]).toMatchObject({ correlationId: res.headers.get('x-request-id') });
      const traced = await postJson('/v1/jobs', { model: 'local-ffmpeg', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 }, { headers: { 'x-request-id': 'trace-42' } });
      expect(traced.headers.get('x-request-id')).toBe('trace-42');
      expect(received[1]).toMatchObject({ correlationId: 'trace-42' });

      const refused = await postJson('/v1/jobs', { model: 'no-such-model', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 });
      expect(refused.status).toBe(422);
      expect(await body(refused)).toEqual({ error: { code: 'unsupported_settings', message: 'This model cannot do that.', details: [{ path: 'model', message: 'unknown' }] } });

      // The keys POST /v1/jobs/regenerate-failed gives failed jobs' new jobs are reelay's own: a client's would block one.
      const sent = received.length;
      const reserved = await postJson('/v1/jobs', { model: 'local-ffmpeg', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 }, { headers: { 'idempotency-key': `regenerate-failed:${newJobId()}` } });
      expect(reserved.status).toBe(400);
      expect((await body(reserved)).error.details).toEqual([{ path: 'Idempotency-Key', message: expect.stringContaining('regenerate-failed:') }]);
      expect(received.length).toBe(sent);
    } finally {
      sub.unsubscribe();
    }
  });

  it('answers 503 when intake does not answer', async () => {
    const res = await postJson('/v1/jobs', { model: 'local-ffmpeg', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 });
    expect(res.status).toBe(503);
    expect((await body(res)).error.code).toBe('service_unavailable');
  });

  it('reads a job from the log with its version as ETag, and hides it from other users', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"5"');
    expect(await body(res)).toMatchObject({ id: jobId, status: 'running', version: 5, message: 'Your video is being generated.' });

    for (const path of [`/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/events`, `/v1/jobs/${jobId}/stream`, `/v1/jobs/${jobId}/content`, '/v1/jobs/job_not_an_id']) {
      const other = await call(path, { key: bob });
      expect(other.status).toBe(404);
      expect((await body(other)).error.code).toBe('not_found');
    }
  });

  it('lists the history without internal fields', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}/events`);
    const { data } = await body(res);
    expect(data.map((e: { sequence: number; status: string }) => [e.sequence, e.status])).toEqual([[1, 'queued'], [2, 'validating'], [3, 'validating'], [4, 'validating'], [5, 'running']]);
    expect(JSON.stringify(data)).not.toContain('task-secret');
  });

  it('lists jobs newest first from job_view, in pages with an opaque cursor and a status filter', async () => {
    const t0 = Date.now() - 60_000;
    const carol = (await createApiKey(gw.deps.dataSource, 'carol')).key;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createJob('carol', i === 0 ? running() : [], new Date(t0 + i * 1000).toISOString()));
    await createJob('dave');
    const pages: string[][] = [];
    let cursor: string | null = null;
    await eventually(async () => {
      const r = await call('/v1/jobs?limit=100', { key: carol });
      return ((await body(r)).data.length === 5) || undefined;
    }, 'job_view to catch up');
    do {
      const res = await call(`/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: carol });
      expect(res.status).toBe(200);
      const page: { data: Job[]; nextCursor: string | null } = await body(res);
      pages.push(page.data.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);

    const runningOnly = await body(await call('/v1/jobs?status=running', { key: carol }));
    expect(runningOnly).toEqual({ data: [expect.objectContaining({ id: ids[0], status: 'running' })], nextCursor: null });

    // Empty parameters, as forms and URL builders send unset fields, count as not given.
    const blank = await call('/v1/jobs?status=&limit=&cursor=', { key: carol });
    expect(blank.status).toBe(200);
    expect((await body(blank)).data).toHaveLength(5);
    expect((await call('/v1/jobs?cursor=garbage', { key: carol })).status).toBe(400);
    expect((await call('/v1/jobs?limit=500', { key: carol })).status).toBe(400);
  });

  it("filters the list by metadata (metadata[key]=value, every pair must match), within the user's own jobs", async () => {
    const erin = (await createApiKey(gw.deps.dataSource, 'erin')).key;
    const row = (userId: string, metadata: Record<string, string>, minutesAgo: number) => {
      const id = newJobId();
      return gw.deps.dataSource
        .query(
          `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job)
           VALUES ($1, $2, 'queued', 'Your video is waiting to start.', 'local-ffmpeg', $3, $3, 1, $4)`,
          [id, userId, new Date(Date.now() - minutesAgo * 60_000).toISOString(), JSON.stringify({ id, metadata })],
        )
        .then(() => id);
    };
    const a1 = await row('erin', { orderId: 'A1', shot: '1' }, 3);
    const a1b = await row('erin', { orderId: 'A1', shot: '2' }, 2);
    await row('erin', { orderId: 'B7' }, 1);
    await row('frank', { orderId: 'A1' }, 1);
    const ids = async (query: string) => {
      const res = await call(`/v1/jobs?${query}`, { key: erin });
      expect(res.status).toBe(200);
      return (await body(res)).data.map((j: Job) => j.id);
    };
    expect(await ids('metadata[orderId]=A1')).toEqual([a1b, a1]);
    expect(await ids('metadata[orderId]=A1&metadata[shot]=1')).toEqual([a1]);
    expect(await ids('metadata[orderId]=C9')).toEqual([]);
    expect(await ids(`metadata[orderId]=${encodeURIComponent('A1" OR 1=1')}`)).toEqual([]);
    // A key given twice, or metadata as a plain value, is refused with the parameter named.
    for (const bad of ['metadata[orderId]=A1&metadata[orderId]=B7', 'metadata=A1']) {
      const res = await call(`/v1/jobs?${bad}`, { key: erin });
      expect([bad, res.status]).toEqual([bad, 400]);
      expect((await body(res)).error.details[0].path).toMatch(/^metadata/);
    }
  });
});

describe('whether a failed job is worth submitting again', () => {
  it('shows retryable on a failed job and links on every job, read alone or in the list, also from a list row written before them', async () => {
    const grace = (await createApiKey(gw.deps.dataSource, 'grace')).key;
    const timedOut = await createJob('grace', [...running(), { type: 'JobFailed', data: { errorCode: 'provider_timeout', message: null, detail: 'internal', at: iso() } }]);
    const alone = await body(await call(`/v1/jobs/${timedOut}`, { key: grace }));
    expect(alone).toMatchObject({ status: 'failed', errorCode: 'provider_timeout', retryable: true });
    const old = newJobId();
    const oldJob = { id: old, status: 'failed', errorCode: 'moderation_rejected', metadata: {} };
    await gw.deps.dataSource.query(
      `INSERT INTO job_view (job_id, user_id, status, message, error_code, model, created_at, updated_at, version, job)
       VALUES ($1, 'grace', 'failed', 'x', 'moderation_rejected', 'local-ffmpeg', $2, $2, 3, $3)`,
      [old, new Date(Date.now() - 3_600_000).toISOString(), JSON.stringify(oldJob)],
    );
    const listed = await eventually(async () => {
      const { data } = await body(await call('/v1/jobs?status=failed', { key: grace }));
      return data.length === 2 ? (data as Job[]) : undefined;
    }, 'job_view to catch up');
    expect(listed.map((j) => [j.id, j.retryable])).toEqual([[timedOut, true], [old, false]]);
    // Links too, for the old row as for a new one.
    expect(listed.map((j) => j.links)).toEqual([
      { self: `/v1/jobs/${timedOut}`, events: `/v1/jobs/${timedOut}/events`, regenerate: `/v1/jobs/${timedOut}/regenerate` },
      { self: `/v1/jobs/${old}`, events: `/v1/jobs/${old}/events`, regenerate: `/v1/jobs/${old}/regenerate` },
    ]);
    expect((await body(await call(`/v1/jobs/${timedOut}`, { key: grace }))).retryable).toBe(true);
    const runningJob = await createJob('grace', running());
    const unfinished = await body(await call(`/v1/jobs/${runningJob}`, { key: grace }));
    expect(unfinished).not.toHaveProperty('retryable');
    expect(unfinished.links).toMatchObject({ stream: `/v1/jobs/${runningJob}/stream`, cancel: `/v1/jobs/${runningJob}/cancel` });
    // A link is a route that answers for the job.
    expect((await call(unfinished.links.events, { key: grace })).status).toBe(200);
    expect((await call(unfinished.links.cancel, { key: grace, method: 'POST' })).status).not.toBe(404);
  });
});

describe('bulk cancel', () => {
  it("asks intake to cancel each of the user's unfinished jobs with that metadata, oldest first, and reports each refusal", async () => {
    const heidi = (await createApiKey(gw.deps.dataSource, 'heidi')).key;
    const row = (userId: string, status: string, metadata: Record<string, string>, minutesAgo: number) => {
      const id = newJobId();
      return gw.deps.dataSource
        .query(
          `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job)
           VALUES ($1, $2, $3, 'x', 'local-ffmpeg', $4, $4, 1, $5)`,
          [id, userId, status, new Date(Date.now() - minutesAgo * 60_000).toISOString(), JSON.stringify({ id, status, metadata })],
        )
        .then(() => id);
    };
    const oldest = await row('heidi', 'running', { orderId: 'A1' }, 5);
    const finishing = await row('heidi', 'queued', { orderId: 'A1', shot: '2' }, 4);
    await row('heidi', 'succeeded', { orderId: 'A1' }, 3);
    await row('heidi', 'running', { orderId: 'B7' }, 2);
    await row('ivan', 'running', { orderId: 'A1' }, 2);
    const newest = await row('heidi', 'delayed', { orderId: 'A1' }, 1);

    const cancel = (payload: unknown) => postJson('/v1/jobs/cancel', payload, { key: heidi });
    // No intake answers: every cancel is reported as unavailable, none lost silently.
    const unanswered = await body(await cancel({ metadata: { orderId: 'A1' } }));
    expect(unanswered.canceled).toEqual([]);
    expect(unanswered.notCanceled.map((n: { id: string; error: { code: string } }) => [n.id, n.error.code])).toEqual([
      [oldest, 'service_unavailable'], [finishing, 'service_unavailable'], [newest, 'service_unavailable'],
    ]);

    const asked: { userId: string; jobId: string }[] = [];
    const sub = intakeNc.subscribe(`${prefix}.cmd.cancel-job`, {
      callback: (_err, msg) => {
        const cmd = msg.json<{ userId: string; jobId: string }>();
        asked.push(cmd);
        if (cmd.jobId === finishing) return void msg.respond(JSON.stringify({ ok: false, error: { code: 'invalid_state', message: 'This job is already succeeded and cannot be canceled.' } }));
        const job = { id: cmd.jobId, object: 'video.job', status: 'canceled', message: 'This video was canceled.', errorCode: null, model: 'local-ffmpeg', provider: null, prompt: 'a fox', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5, resolution: null, seed: null, referenceImage: null, progress: null, output: null, credits: { estimated: 0, charged: null }, webhookUrl: null, metadata: {}, createdAt: iso(), updatedAt: iso(), completedAt: iso(), version: 2 };
        msg.respond(JSON.stringify({ ok: true, job }));
      },
    });
    await intakeNc.flush();
    try {
      const res = await cancel({ metadata: { orderId: 'A1' } });
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual({
        object: 'job_cancel_batch',
        canceled: [oldest, newest],
        notCanceled: [{ id: finishing, error: { code: 'invalid_state', message: 'This job is already succeeded and cannot be canceled.' } }],
        hasMore: false,
        nextCursor: null,
      });
      expect(asked.map((a) => a.userId)).toEqual(['heidi', 'heidi', 'heidi']);
      expect((await body(await cancel({ metadata: { orderId: 'A1', shot: '2' } }))).notCanceled.map((n: { id: string }) => n.id)).toEqual([finishing]);
      for (const bad of [{}, { metadata: {} }, { metadata: { orderId: 'A1' }, status: 'running' }, { metadata: 'A1' }]) {
        expect([bad, (await cancel(bad)).status]).toEqual([bad, 400]);
      }
      expect(asked).toHaveLength(4);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('bulk regenerate of failed jobs past 100', () => {
  it('goes on with its nextCursor, takes only retryable failures unless told, skips failed jobs a job repeats already and jobs newer than the sweep', async () => {
    const kim = (await createApiKey(gw.deps.dataSource, 'kim')).key;
    const row = (id: string, secondsAgo: number, errorCode: string, job: Record<string, unknown> = {}) =>
      gw.deps.dataSource.query(
        `INSERT INTO job_view (job_id, user_id, status, message, error_code, model, created_at, updated_at, version, job)
         VALUES ($1, 'kim', 'failed', 'x', $2, 'local-ffmpeg', $3, $3, 1, $4)`,
        [id, errorCode, new Date(Date.now() - secondsAgo * 1000).toISOString(), JSON.stringify({ id, status: 'failed', metadata: { orderId: 'D4' }, ...job })],
      );
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) {
      ids.push(newJobId());
      await row(ids[i]!, 300 - i, 'provider_timeout');
    }
    // Created a moment ago, as the sweep's own new jobs are: not taken by it.
    const fresh = newJobId();
    await row(fresh, 0.5, 'provider_timeout');
    const refusedByModeration = newJobId();
    await row(refusedByModeration, 100, 'moderation_rejected');
    // A failed job generated again already (its new job failed too): only the new one is taken.
    const repeated = newJobId();
    const repeat = newJobId();
    await row(repeated, 90, 'provider_timeout');
    await row(repeat, 80, 'provider_timeout', { parentJobId: repeated });
    const regenerate = async (payload: unknown) => {
      const res = await postJson('/v1/jobs/regenerate-failed', payload, { key: kim });
      return { status: res.status, body: await body(res) };
    };
    // These rows have no log behind them: each regenerate answers not_found, which is enough to page.
    const parents = (answer: { body: { notCreated: { parentJobId: string }[] } }) => answer.body.notCreated.map((n) => n.parentJobId);
    const first = await regenerate({ metadata: { orderId: 'D4' } });
    expect(first.status).toBe(200);
    expect(parents(first)).toEqual(ids.slice(0, 100));
    expect(first.body).toMatchObject({ object: 'job_regenerate_batch', created: [], hasMore: true, nextCursor: expect.any(String) });
    expect(first.body.notCreated[0].error.code).toBe('not_found');
    const rest = await regenerate({ metadata: { orderId: 'D4' }, cursor: first.body.nextCursor });
    expect(parents(rest)).toEqual([ids[100], repeat]);
    expect(rest.body).toMatchObject({ hasMore: false, nextCursor: null });
    const all = await regenerate({ metadata: { orderId: 'D4' }, retryableOnly: false });
    const allRest = await regenerate({ metadata: { orderId: 'D4' }, retryableOnly: false, cursor: all.body.nextCursor });
    expect(parents(allRest)).toEqual([ids[100], refusedByModeration, repeat]);
    // A cursor made for other choices is refused, and so is a bad body.
    const other = await regenerate({ metadata: { orderId: 'D4' }, retryableOnly: false, cursor: first.body.nextCursor });
    expect(other.status).toBe(400);
    expect(other.body.error.details).toEqual([{ path: 'cursor', message: 'use the nextCursor of an earlier bulk regenerate with the same metadata and retryableOnly' }]);
    // A cursor whose sweep start was edited to a moment PostgreSQL cannot hold (or one to come): 400, not 500.
    const [createdAt, jobId, scope] = JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString('utf8')) as string[];
    for (const start of ['9000000000000000', '-5000000000000000', String(Date.now() + 3_600_000)]) {
      const edited = Buffer.from(JSON.stringify([createdAt, jobId, scope.replace(/@.*$/, `@${start}`)])).toString('base64url');
      const answer = await regenerate({ metadata: { orderId: 'D4' }, cursor: edited });
      expect([start, answer.status, answer.body.error?.details?.[0]?.path]).toEqual([start, 400, 'cursor']);
    }
    // One made by a replica whose clock runs a few seconds ahead of this one's goes on.
    const ahead = Buffer.from(JSON.stringify([createdAt, jobId, scope.replace(/@.*$/, `@${Date.now() + 3_000}`)])).toString('base64url');
    const fromAhead = await regenerate({ metadata: { orderId: 'D4' }, cursor: ahead });
    expect(fromAhead.status).toBe(200);
    expect(parents(fromAhead)).toEqual(expect.arrayContaining([ids[100], repeat]));
    expect([...parents(first), ...parents(rest), ...parents(all), ...parents(allRest)]).not.toContain(fresh);
    for (const bad of [{}, { metadata: {} }, { metadata: { orderId: 'D4' }, status: 'failed' }]) expect([bad, (await regenerate(bad)).status]).toEqual([bad, 400]);
  });
});

describe('bulk cancel past 100 jobs', () => {
  it('goes on after the jobs an answer covered with its nextCursor, so jobs that keep being refused do not hold a loop on hasMore', async () => {
    const judy = (await createApiKey(gw.deps.dataSource, 'judy')).key;
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) {
      const id = newJobId();
      ids.push(id);
      await gw.deps.dataSource.query(
        `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job)
         VALUES ($1, 'judy', 'running', 'x', 'local-ffmpeg', $2, $2, 1, $3)`,
        [id, new Date(Date.now() - (200 - i) * 1000).toISOString(), JSON.stringify({ id, status: 'running', metadata: { orderId: 'C3' } })],
      );
    }
    // Intake refuses every one (each finished meanwhile, as job_view does not know yet).
    const sub = intakeNc.subscribe(`${prefix}.cmd.cancel-job`, {
      callback: (_err, msg) => void msg.respond(JSON.stringify({ ok: false, error: { code: 'invalid_state', message: 'This job is already succeeded and cannot be canceled.' } })),
    });
    await intakeNc.flush();
    try {
      const cancel = async (payload: unknown) => {
        const res = await postJson('/v1/jobs/cancel', payload, { key: judy });
        return { status: res.status, body: await body(res) };
      };
      const refused = (answer: { body: { notCanceled: { id: string }[] } }) => answer.body.notCanceled.map((n) => n.id);
      const first = await cancel({ metadata: { orderId: 'C3' } });
      expect(first.status).toBe(200);
      expect(refused(first)).toEqual(ids.slice(0, 100));
      expect(first.body).toMatchObject({ canceled: [], hasMore: true, nextCursor: expect.any(String) });
      // Without the cursor the same refused jobs come back; with it, the call goes on after them.
      expect(refused(await cancel({ metadata: { orderId: 'C3' } }))).toEqual(ids.slice(0, 100));
      const rest = await cancel({ metadata: { orderId: 'C3' }, cursor: first.body.nextCursor });
      expect(refused(rest)).toEqual([ids[100]]);
      expect(rest.body).toMatchObject({ hasMore: false, nextCursor: null });
      // A cursor of the job list, or of a bulk cancel of other metadata, would be misread here: refused.
      const listCursor = (await body(await call('/v1/jobs?limit=1', { key: judy }))).nextCursor;
      expect(listCursor).toEqual(expect.any(String));
      for (const cursor of ['not-a-cursor', listCursor]) {
        const bad = await cancel({ metadata: { orderId: 'C3' }, cursor });
        expect(bad.status).toBe(400);
        expect(bad.body.error.details).toEqual([{ path: 'cursor', message: 'use the nextCursor of an earlier bulk cancel' }]);
      }
      expect((await cancel({ metadata: { orderId: 'C4' }, cursor: first.body.nextCursor })).status).toBe(400);
      expect((await cancel({ metadata: { orderId: 'C3' }, cursor: first.body.nextCursor })).status).toBe(200);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('queue position', () => {
  it("gives a job that has not started the number of its model's not-started jobs submitted before it, anyone's", async () => {
    const submitAs = async (userId: string, model: string, minutesAgo: number, more: { type: string; data: unknown }[] = []) => {
      const jobId = newJobId();
      const event = submitted(jobId, userId, new Date(Date.now() - minutesAgo * 60_000).toISOString());
      await gw.deps.store.append(jobStreamId(jobId), 0, [{ ...event, data: { ...event.data, model } }, ...more]);
      return jobId;
    };
    const first = await submitAs('someone', 'queue-model', 5);
    await submitAs('someone', 'queue-model', 4, running()); // started: not ahead of anyone
    await submitAs('someone', 'other-model', 4);
    const second = await submitAs('someone', 'queue-model', 3, [{ type: 'JobValidationStarted', data: { at: iso() } }]);
    const mine = await submitAs('alice', 'queue-model', 2);
    await submitAs('someone', 'queue-model', 1); // after mine
    const ahead = async (jobId: string, key?: string) => (await body(await call(`/v1/jobs/${jobId}`, key ? { key } : {}))).queue;
    await eventually(async () => ((await ahead(mine))?.jobsAhead === 2 ? true : undefined), 'job_view to catch up');
    expect(await ahead(mine)).toEqual({ jobsAhead: 2 });
    expect(await ahead(first, alice)).toBeUndefined(); // another user's job: 404, no position
    await gw.deps.store.append(jobStreamId(second), 2, running().slice(1));
    await eventually(async () => ((await ahead(mine))?.jobsAhead === 1 ? true : undefined), 'the second job started');
    const started = await submitAs('alice', 'queue-model', 6, running());
    expect(await ahead(started)).toBeUndefined();
  });
});

describe('finish-time estimate', () => {
  const withModel = (jobId: string, model: string, at: string) => {
    const event = submitted(jobId, 'alice', at);
    return { ...event, data: { ...event.data, model } };
  };

  it("gives an unfinished job the times its model's recent jobs took, and none to a finished job or a model without enough history", async () => {
    // Ten succeeded jobs of the model took 60, 70, ... 150 s from submit to done.
    const done = Date.now() - 3_600_000;
    for (let i = 0; i < 10; i++) {
      const id = newJobId();
      await gw.deps.dataSource.query(
        `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, completed_at, version, job)
         VALUES ($1, 'someone', 'succeeded', 'Your video is ready.', 'estimate-model', $2, $3, $3, 7, '{}')`,
        [id, new Date(done - (60 + 10 * i) * 1000).toISOString(), new Date(done).toISOString()],
      );
    }
    const createdAt = new Date(Date.now() - 30_000).toISOString();
    const jobId = newJobId();
    await gw.deps.store.append(jobStreamId(jobId), 0, [withModel(jobId, 'estimate-model', createdAt), ...running()]);
    const job = await body(await call(`/v1/jobs/${jobId}`));
    expect(job.estimate).toEqual({
      readyByP50: new Date(Date.parse(createdAt) + 105_000).toISOString(),
      readyByP90: new Date(Date.parse(createdAt) + 141_000).toISOString(),
      basedOnJobs: 10,
    });

    const rare = newJobId();
    await gw.deps.store.append(jobStreamId(rare), 0, [withModel(rare, 'rare-model', createdAt), ...running()]);
    expect((await body(await call(`/v1/jobs/${rare}`))).estimate).toBeUndefined();

    const finished = newJobId();
    await gw.deps.store.append(jobStreamId(finished), 0, [withModel(finished, 'estimate-model', createdAt), ...running(), succeeded(10)]);
    expect((await body(await call(`/v1/jobs/${finished}`))).estimate).toBeUndefined();
  });
});

describe('webhook deliveries of a job', () => {
  it("answers what notification reports for the owner's job, 404 for another user's, 503 when notification does not answer", async () => {
    const jobId = await createJob('alice', running());
    const deliveries = { object: 'list', data: [{ version: 1, type: 'video.job.queued', status: 'delivered', attempts: 1, lastHttpStatus: 200, lastError: null, nextAttemptAt: null, deliveredAt: iso(), failedAt: null, attemptLog: [{ attempt: 1, at: iso(), outcome: 'delivered', httpStatus: 200, error: null, durationMs: 12 }] }] };
    expect((await call(`/v1/jobs/${jobId}/webhooks`)).status).toBe(503);
    const asked: unknown[] = [];
    const sub = intakeNc.subscribe(`${prefix}.cmd.webhook-deliveries`, {
      callback: (_err, msg) => {
        asked.push(msg.json());
        msg.respond(JSON.stringify({ ok: true, deliveries }));
      },
    });
    await intakeNc.flush();
    try {
      const res = await call(`/v1/jobs/${jobId}/webhooks`);
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual(deliveries);
      expect(asked).toEqual([expect.objectContaining({ userId: 'alice', jobId })]);
      expect((await call(`/v1/jobs/${jobId}/webhooks`, { key: bob })).status).toBe(404);
      expect(asked).toHaveLength(1);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('test webhook', () => {
  it('asks notification to send one, one at a time per user (429 meanwhile), and refuses a body without a URL', async () => {
    const result = { object: 'webhook_test', delivered: true, outcome: 'delivered', httpStatus: 200, error: null, durationMs: 5, webhookId: 'msg_test_1_v0' };
    let answer: (() => void) | undefined;
    const sub = intakeNc.subscribe(`${prefix}.cmd.webhook-test`, {
      callback: (_err, msg) => {
        answer = () => msg.respond(JSON.stringify({ ok: true, result }));
      },
    });
    await intakeNc.flush();
    try {
      const first = postJson('/v1/webhooks/test', { url: 'https://hooks.example.com/in' });
      // A 429 shows the first send holds the user's turn, not that its request has reached notification yet.
      const reached = await eventually(async () => answer, 'the first send asked notification');
      expect((await postJson('/v1/webhooks/test', { url: 'https://hooks.example.com/in' })).status).toBe(429);
      reached();
      const res = await first;
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual(result);
      expect((await postJson('/v1/webhooks/test', { nope: true })).status).toBe(400);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('waiting for a job to finish (Prefer: wait)', () => {
  it('answers an unfinished job once it has finished, with Preference-Applied', async () => {
    const jobId = await createJob('alice', running());
    const answer = call(`/v1/jobs/${jobId}`, { headers: { prefer: 'wait=20' } });
    // Recorded only after the request went out: a running job in the answer would mean no wait.
    await new Promise((r) => setTimeout(r, 300));
    await gw.deps.store.append(jobStreamId(jobId), 5, [succeeded(10)]);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=20');
    expect(res.headers.get('vary')).toMatch(/Prefer/i);
    expect(await body(res)).toMatchObject({ id: jobId, status: 'succeeded' });
  });

  it('answers the job as it is when the wait ends first, and a finished job at once', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}`, { headers: { prefer: 'respond-async, wait=1' } });
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    expect(await body(res)).toMatchObject({ id: jobId, status: 'running' });

    await gw.deps.store.append(jobStreamId(jobId), 5, [succeeded(10)]);
    const done = await call(`/v1/jobs/${jobId}`, { headers: { prefer: 'wait=60' } });
    expect(await body(done)).toMatchObject({ status: 'succeeded' });
    // Another user's job is not found, whatever they prefer.
    expect((await call(`/v1/jobs/${jobId}`, { key: bob, headers: { prefer: 'wait=5' } })).status).toBe(404);
  });
});

describe('SSE stream', () => {
  it('replays after Last-Event-ID, forwards live pushes and ends at a terminal status', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '3' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const nc = await connectNats('nats://127.0.0.1:4222', 'fake-notification');
    let pushed = false;
    const events = await readSse(res, (e) => {
      if (e.id === '5' && !pushed) {
        pushed = true;
        // Only a live push can produce progress 77 at version 6; afterwards the log moves on to 7.
        void (async () => {
          const live = { ...e.data, progress: 77, version: 6 };
          nc.publish(liveJobSubject(prefix, jobId), JSON.stringify({ version: 6, job: live }));
          await nc.flush();
          await new Promise((r) => setTimeout(r, 100));
          await gw.deps.store.append(jobStreamId(jobId), 5, [{ type: 'JobProgressed', data: { progress: 50, at: iso() } }, succeeded(10)]);
        })();
      }
    });
    await nc.drain();
    expect(events.map((e) => [e.id, e.data.status])).toEqual([
      ['4', 'validating'],
      ['5', 'running'],
      ['6', 'running'],
      ['7', 'succeeded'],
    ]);
    expect(events[2].data.progress).toBe(77);
    expect(events[3].data).toMatchObject({ id: jobId, version: 7, progress: 100, message: 'Your video is ready.' });
  });

  it('catches up from the log when no push comes, and answers 204 (no reconnecting) when resuming after the terminal event', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '5' } });
    setTimeout(() => void gw.deps.store.append(jobStreamId(jobId), 5, [{ type: 'JobFailed', data: { errorCode: 'provider_timeout', message: null, detail: 'internal', at: iso() } }]), 200);
    const events = await readSse(res);
    expect(events.map((e) => [e.id, e.data.status, e.data.errorCode])).toEqual([['6', 'failed', 'provider_timeout']]);

    const again = await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '6' } });
    expect(again.status).toBe(204);
  });

  it("tells a canceled job's provider task's end, recorded later, as a new version: the job once more, still canceled", async () => {
    const jobId = await createJob('alice', [...running(), { type: 'JobCanceled', data: { at: iso() } }]);
    const first = await readSse(await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '5' } }));
    expect(first.map((e) => [e.id, e.data.status, e.data.cancellation])).toEqual([['6', 'canceled', { providerTask: 'stopping' }]]);
    await gw.deps.store.append(jobStreamId(jobId), 6, [{ type: 'JobProviderTaskEnded', data: { reason: 'finished_at_provider', at: iso() } }]);
    // The EventSource reconnects with the canceled event's id: the task's end follows, then nothing (204).
    const resumed = await readSse(await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '6' } }));
    expect(resumed.map((e) => [e.id, e.data.status, e.data.cancellation])).toEqual([['7', 'canceled', { providerTask: 'ended' }]]);
    expect((await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '7' } })).status).toBe(204);
    // A stream from before the cancel ends with the job as it is now.
    const replay = await readSse(await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '5' } }));
    expect(replay.map((e) => [e.id, e.data.status, e.data.cancellation])).toEqual([['7', 'canceled', { providerTask: 'ended' }]]);
    // And a conditional GET with the cancel's tag gets the new version.
    const read = await call(`/v1/jobs/${jobId}`);
    expect(read.headers.get('etag')).toBe('"7"');
    expect(await body(read)).toMatchObject({ version: 7, status: 'canceled', cancellation: { providerTask: 'ended' } });
    expect((await call(`/v1/jobs/${jobId}`, { headers: { 'if-none-match': 'W/"6"' } })).status).toBe(200);
    expect((await call(`/v1/jobs/${jobId}`, { headers: { 'if-none-match': 'W/"7"' } })).status).toBe(304);
  });
});

describe('SSE streams per user', () => {
  it('answers HEAD on a stream with its headers at once: the next request on the connection is not held behind it', async () => {
    const hank = (await createApiKey(gw.deps.dataSource, 'hank')).key;
    const jobId = await createJob('hank', running());
    const { hostname, port } = new URL(base);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const auth = `Authorization: Bearer ${hank}\r\nHost: ${hostname}\r\n`;
    socket.write(`HEAD /v1/jobs/${jobId}/stream HTTP/1.1\r\n${auth}\r\nGET /v1/jobs/${jobId} HTTP/1.1\r\n${auth}\r\n`);
    try {
      await eventually(async () => ((received.match(/^HTTP\/1\.1 /gm)?.length ?? 0) >= 2 ? true : undefined), 'both answers on the connection');
      const [head, get] = received.split(/(?=^HTTP\/1\.1 )/m);
      expect(head).toMatch(/^HTTP\/1\.1 200[\s\S]*content-type: text\/event-stream/i);
      expect(get).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  });

  it('answers 429 past the open streams one user may hold, and takes a new one once one closes', async () => {
    const erin = (await createApiKey(gw.deps.dataSource, 'erin')).key;
    const jobId = await createJob('erin', running());
    const open = await Promise.all([1, 2, 3].map(() => {
      const abort = new AbortController();
      return call(`/v1/jobs/${jobId}/stream`, { key: erin, signal: abort.signal }).then((res) => ({ res, abort }));
    }));
    expect(open.map((s) => s.res.status)).toEqual([200, 200, 200]);
    const refused = await call(`/v1/jobs/${jobId}/stream`, { key: erin });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect((await body(refused)).error.code).toBe('rate_limited');
    // Another user is not held to erin's streams.
    const other = new AbortController();
    expect((await call(`/v1/jobs/${await createJob('alice', running())}/stream`, { signal: other.signal })).status).toBe(200);
    other.abort();

    open[0].abort.abort();
    const again = await eventually(async () => {
      const abort = new AbortController();
      const res = await call(`/v1/jobs/${jobId}/stream`, { key: erin, signal: abort.signal });
      if (res.status === 200) return { res, abort };
      abort.abort();
      return undefined;
    }, 'a stream slot freed by the closed one');
    for (const s of [...open.slice(1), again]) s.abort.abort();
  });
});

describe('SSE stream with a Last-Event-ID the job never had', () => {
  it('replays from the start instead of waiting past a version that will not come', async () => {
    const jobId = await createJob('alice', running());
    const res = await call(`/v1/jobs/${jobId}/stream`, { headers: { 'last-event-id': '99' } });
    expect(res.status).toBe(200);
    setTimeout(() => void gw.deps.store.append(jobStreamId(jobId), 5, [{ type: 'JobFailed', data: { errorCode: 'provider_timeout', message: null, detail: 'internal', at: iso() } }]), 200);
    const events = await readSse(res);
    expect(events[0].id).toBe('1');
    expect(events.map((e) => [e.id, e.data.status]).at(-1)).toEqual(['6', 'failed']);
  });
});

describe('content', () => {
  it('serves the output with Range support, and 404 until the job succeeded', async () => {
    const bytes = Buffer.from('0123456789');
    const done = await createJob('alice', [...running(), succeeded(bytes.length)]);
    await new LocalStorage(storageDir).put(outputKey(done), bytes, { contentType: 'video/mp4' });

    const full = await call(`/v1/jobs/${done}/content`);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('video/mp4');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await full.arrayBuffer())).toEqual(bytes);

    const part = await call(`/v1/jobs/${done}/content`, { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await part.text()).toBe('2345');

    const tail = await call(`/v1/jobs/${done}/content`, { headers: { range: 'bytes=-3' } });
    expect(await tail.text()).toBe('789');

    const outside = await call(`/v1/jobs/${done}/content`, { headers: { range: 'bytes=50-' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */10');
    expect(outside.headers.get('content-type')).toMatch(/^application\/json/);
    expect(outside.headers.get('etag')).not.toBe('"abc"'); // not the video's tag

    // A player revalidating its cached copy is told it still holds the video, whatever range it asks for.
    const cached = await call(`/v1/jobs/${done}/content`, { headers: { 'if-none-match': full.headers.get('etag')!, range: 'bytes=0-3' } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe('"abc"');
    expect(await cached.text()).toBe('');
    expect((await call(`/v1/jobs/${done}/content`, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);

    const pending = await createJob('alice', running());
    const notYet = await call(`/v1/jobs/${pending}/content`);
    expect(notYet.status).toBe(404);
    expect((await body(notYet)).error.code).toBe('not_found');
  });

  it('answers whole a download whose file is removed while the answer starts (a deletion racing it)', async () => {
    const bytes = Buffer.from('0123456789');
    const done = await createJob('alice', [...running(), succeeded(bytes.length)]);
    const storage = gw.deps.storage;
    await storage.put(outputKey(done), bytes, { contentType: 'video/mp4' });
    // Whichever look at the file comes first, the file is gone right after it.
    const removeAfter = <A extends unknown[], R>(real: (...args: A) => Promise<R>) => async (...args: A) => {
      const result = await real(...args);
      await storage.remove(outputKey(done));
      return result;
    };
    const stat = jest.spyOn(storage, 'stat').mockImplementationOnce(removeAfter(storage.stat.bind(storage)));
    const open = jest.spyOn(storage, 'open').mockImplementationOnce(removeAfter(storage.open.bind(storage)));
    try {
      const res = await call(`/v1/jobs/${done}/content`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe('10');
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    } finally {
      stat.mockRestore();
      open.mockRestore();
    }
  });
});

describe('assets, models, webhooks, callbacks, health', () => {
  it('stores an uploaded image with a sidecar and refuses other types', async () => {
    const res = await call('/v1/assets', { method: 'POST', body: PNG_6x4, headers: { 'content-type': 'image/png' } });
    expect(res.status).toBe(201);
    const asset = await body(res);
    expect(asset).toEqual({ id: expect.stringMatching(/^asset_[A-Za-z0-9]{24}$/), contentType: 'image/png', bytes: PNG_6x4.length, width: 6, height: 4 });
    const storage = new LocalStorage(storageDir);
    expect(await storage.stat(assetKey(asset.id))).toMatchObject({ contentType: 'image/png', bytes: PNG_6x4.length, metadata: { userId: 'alice', width: 6, height: 4 } });
    expect(await storage.read(assetKey(asset.id))).toEqual(PNG_6x4);

    for (const [type, upload] of [['image/gif', PNG_6x4], ['image/jpeg', PNG_6x4], ['image/png', Buffer.from('not an image')]] as const) {
      const refused = await call('/v1/assets', { method: 'POST', body: upload, headers: { 'content-type': type } });
      expect(refused.status).toBe(415);
      expect((await body(refused)).error.code).toBe('unsupported_media_type');
    }
  });

  it('serves an uploaded image to whoever holds an unexpired signed link (a provider), without a key, and nothing else', async () => {
    const asset = await body(await call('/v1/assets', { method: 'POST', body: PNG_6x4, headers: { 'content-type': 'image/png' } }));
    const signer = { secret: ASSET_URL_SECRET, publicBaseUrl: base };
    const link = signedAssetUrl(signer, asset.id, new Date(Date.now() + 60_000));
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG_6x4);

    const tampered = new URL(link);
    tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 60));
    for (const url of [
      tampered.toString(),
      signedAssetUrl(signer, asset.id, new Date(Date.now() - 1000)), // expired
      signedAssetUrl({ ...signer, secret: 'not-the-gateway-secret-not-the-gateway' }, asset.id, new Date(Date.now() + 60_000)),
      signedAssetUrl(signer, 'asset_doesnotexist0000000000', new Date(Date.now() + 60_000)),
      `${base}/v1/assets/${asset.id}/content`,
    ]) {
      const refused = await fetch(url);
      expect([url, refused.status]).toEqual([url, url.includes('?') ? 404 : 400]);
    }
  });

  it('serves the catalog', async () => {
    const models = await body(await call('/v1/models'));
    expect(models.data.length).toBeGreaterThan(0);
    expect(Object.keys(models.data[0]).sort()).toEqual(['aspectRatios', 'creditsPerSecond', 'durations', 'id', 'imageToVideo', 'provider', 'resolutions', 'textToVideo']);
    expect(models.data.some((m: object) => 'alternates' in m)).toBe(false);

  });

  it("shows and rotates the user's webhook secret by asking notification, which keeps and signs with it", async () => {
    expect((await call('/v1/webhooks/secret')).status).toBe(503); // notification does not answer
    const asked: { subject: string; payload: Record<string, unknown> }[] = [];
    const answer = (userId: string, generation: number) => ({
      secret: webhookSecretFor('test-master-secret-0123456789', userId, generation), generation, rotatedAt: generation ? iso() : null, previousSecretValidUntil: null,
    });
    const subs = [`${prefix}.cmd.webhook-secret`, `${prefix}.cmd.webhook-secret-rotate`].map((subject) =>
      intakeNc.subscribe(subject, {
        callback: (_err, msg) => {
          const payload = msg.json<Record<string, unknown>>();
          asked.push({ subject: subject.slice(prefix.length + 1), payload });
          msg.respond(JSON.stringify({ ok: true, secret: answer(String(payload.userId), subject.endsWith('rotate') ? 1 : 0) }));
        },
      }),
    );
    await intakeNc.flush();
    try {
      const shown = await call('/v1/webhooks/secret');
      expect(shown.status).toBe(200);
      expect(shown.headers.get('cache-control')).toBe('no-store');
      expect(await body(shown)).toEqual(answer('alice', 0));
      expect((await body(await call('/v1/webhooks/secret', { key: bob }))).secret).toBe(answer('bob', 0).secret);

      const rotated = await call('/v1/webhooks/secret/rotate', { method: 'POST' });
      expect(rotated.status).toBe(200);
      expect(await body(rotated)).toMatchObject({ generation: 1, secret: answer('alice', 1).secret });
      expect((await postJson('/v1/webhooks/secret/rotate', { keepPreviousForSeconds: 0 })).status).toBe(200);
      for (const bad of [{ keepPreviousForSeconds: -1 }, { keepPreviousForSeconds: 8 * 86_400 }, { keepPreviousForSeconds: 1.5 }, { other: 1 }]) {
        expect([bad, (await postJson('/v1/webhooks/secret/rotate', bad)).status]).toEqual([bad, 400]);
      }
      expect(asked.map((a) => [a.subject, a.payload.userId, a.payload.keepPreviousForSeconds])).toEqual([
        ['cmd.webhook-secret', 'alice', undefined],
        ['cmd.webhook-secret', 'bob', undefined],
        ['cmd.webhook-secret-rotate', 'alice', 86_400],
        ['cmd.webhook-secret-rotate', 'alice', 0],
      ]);
    } finally {
      for (const sub of subs) sub.unsubscribe();
    }
  });

  it("answers the user's own credit balance, held and spent included, as of the request", async () => {
    const ledger = (command: CreditsCommand) => handle(gw.deps.store, creditStreamId('alice'), creditsLedgerFold, (state) => creditsDecider.decide(command, state));
    const now = new Date();
    await ledger({ type: 'GrantCredits', userId: 'alice', amount: 100, now });
    await ledger({ type: 'HoldCredits', userId: 'alice', jobId: 'job_credits_1', amount: 30, now });
    await ledger({ type: 'HoldCredits', userId: 'alice', jobId: 'job_credits_2', amount: 20, now });
    expect(await body(await call('/v1/credits'))).toEqual({ object: 'credit_balance', available: 50, held: 50, granted: 100, spent: 0, jobsHolding: 2 });
    await ledger({ type: 'SettleCredits', jobId: 'job_credits_1', now });
    await ledger({ type: 'ReleaseCredits', jobId: 'job_credits_2', now });
    expect(await body(await call('/v1/credits'))).toEqual({ object: 'credit_balance', available: 70, held: 0, granted: 100, spent: 30, jobsHolding: 0 });
    // Another user sees their own ledger (empty here), never alice's.
    expect(await body(await call('/v1/credits', { key: bob }))).toEqual({ object: 'credit_balance', available: 0, held: 0, granted: 0, spent: 0, jobsHolding: 0 });
    expect((await call('/v1/credits', { key: null })).status).toBe(401);
  });

  it('forwards provider callbacks untouched and answers 200 without a key (Luma retries a 204)', async () => {
    const got = new Promise<Record<string, unknown>>((resolve) => {
      const sub = intakeNc.subscribe(`${prefix}.cmd.provider-callback`, {
        callback: (_e, msg) => {
          msg.respond(JSON.stringify({ ok: true }));
          sub.unsubscribe();
          resolve(msg.json());
        },
      });
    });
    await intakeNc.flush();
    const res = await call('/v1/providers/runway/callback?token=t1', { key: null, method: 'POST', body: '{"id":"task"}', headers: { 'content-type': 'application/json', 'webhook-signature': 'v1,abc' } });
    expect(res.status).toBe(200);
    const cmd = await got;
    expect(cmd).toMatchObject({ provider: 'runway', query: 'token=t1', headers: expect.objectContaining({ 'webhook-signature': 'v1,abc' }) });
    expect(Buffer.from(cmd.bodyBase64 as string, 'base64').toString()).toBe('{"id":"task"}');
  });

  it('refuses (413) a callback too large to forward over NATS once base64-encoded, instead of answering 200 and dropping it', async () => {
    const forwarded: number[] = [];
    const sub = intakeNc.subscribe(`${prefix}.cmd.provider-callback`, {
      callback: (_e, msg) => {
        forwarded.push(msg.data.length);
        msg.respond(JSON.stringify({ ok: true }));
      },
    });
    await intakeNc.flush();
    try {
      const post = (bytes: number) => call('/v1/providers/replicate/callback', { key: null, method: 'POST', body: JSON.stringify({ id: 'p', logs: 'x'.repeat(bytes) }), headers: { 'content-type': 'application/json' } });
      expect((await post(900 * 1024)).status).toBe(413);
      expect((await post(600 * 1024)).status).toBe(200);
      await eventually(async () => (forwarded.length === 1 ? true : undefined), 'the 600 KiB callback forwarded');
      expect(forwarded[0]).toBeGreaterThan(800 * 1024);
    } finally {
      sub.unsubscribe();
    }
  });

  it('is ready when PostgreSQL and NATS answer', async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ status: 'ok', checks: { postgres: 'up', nats: 'up' } });
  });
});

describe('a second gateway process on the same database', () => {
  it('limits requests per key with 429 + Retry-After, and closes while an SSE stream is open', async () => {
    const config = GatewayConfig.parse({
      DATABASE_URL: db.url,
      NATS_PREFIX: prefix,
      STORAGE_DIR: storageDir,
      RATE_LIMIT_BURST: '3',
      RATE_LIMIT_PER_SECOND: '0.5',
      DB_POOL_SIZE: '2',
    });
    const second = await createGatewayApp(config, createLogger('gateway', 'silent'));
    await second.app.listen(0, '127.0.0.1');
    const url = (await second.app.getUrl()).replace('[::1]', '127.0.0.1');
    let closed = false;
    try {
      const jobId = await createJob('alice', running());
      const stream = await fetch(`${url}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${alice}` } });
      expect(stream.status).toBe(200);
      const streamed = readSse(stream);

      const statuses: number[] = [];
      let limited: globalThis.Response | undefined;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${alice}` } });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      // The stream took the first token; other keys keep their own budget.
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await body(limited!)).error.code).toBe('rate_limited');
      expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(200);

      await second.app.close();
      closed = true;
      expect((await streamed).map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    } finally {
      if (!closed) await second.app.close();
    }
  });

  it('once shutdown has begun, a stream that opens ends at once (the client reconnects elsewhere) and a waiting read answers at once, so nothing holds the server open', async () => {
    const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, DB_POOL_SIZE: '2' });
    const closing = await createGatewayApp(config, createLogger('gateway', 'silent'));
    await closing.app.listen(0, '127.0.0.1');
    const url = (await closing.app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      const jobId = await createJob('alice', running());
      // What Nest runs first on SIGTERM; a request already past authentication reaches the stream after it.
      closing.app.get(JobStreamRegistry).beforeApplicationShutdown();
      const stream = await fetch(`${url}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${alice}` }, signal: AbortSignal.timeout(5000) });
      expect(stream.status).toBe(200);
      expect(await stream.text()).toBe('retry: 2000\n\n');
      const waited = await fetch(`${url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${alice}`, prefer: 'wait=20' }, signal: AbortSignal.timeout(5000) });
      expect(waited.status).toBe(200);
      expect(((await waited.json()) as { status: string }).status).toBe('running');
    } finally {
      await closing.app.close();
    }
  });

  it('ends a job stream while its credential is good and checks the reconnect again: a revoked key and an expired job token get 401', async () => {
    const started: GatewayApp[] = [];
    const gateway = async (more: Record<string, string>) => {
      const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, DB_POOL_SIZE: '2', WEBHOOK_MASTER_SECRET: 'test-master-secret-0123456789', ...more });
      const app = await createGatewayApp(config, createLogger('gateway', 'silent'));
      started.push(app);
      await app.app.listen(0, '127.0.0.1');
      return { url: (await app.app.getUrl()).replace('[::1]', '127.0.0.1'), config };
    };
    try {
      // A key's stream lasts at most SSE_MAX_STREAM_MS; the key revoked meanwhile stops the reconnect.
      const short = await gateway({ SSE_MAX_STREAM_MS: '1000' });
      const { key } = await createApiKey(gw.deps.dataSource, 'stream-revoked');
      const jobId = await createJob('stream-revoked', running());
      const open = (id: string, auth: Record<string, string>, q = '') => fetch(`${short.url}/v1/jobs/${id}/stream${q}`, { headers: auth });
      const streamed = await open(jobId, { authorization: `Bearer ${key}` });
      expect(streamed.status).toBe(200);
      await revokeApiKey(gw.deps.dataSource, key);
      expect((await readSse(streamed)).map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']); // ended, the job unfinished
      expect((await open(jobId, { authorization: `Bearer ${key}`, 'last-event-id': '5' })).status).toBe(401);

      // A job token's stream ends when the token expires, long before SSE_MAX_STREAM_MS.
      const long = await gateway({});
      const token = signJobToken(jobTokenSecret(long.config)!, jobId, { userId: 'stream-revoked', expiresAt: new Date(Date.now() + 1500) });
      const viaToken = await fetch(`${long.url}/v1/jobs/${jobId}/stream?token=${token}`);
      expect(viaToken.status).toBe(200);
      expect((await readSse(viaToken)).map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
      const refused = await fetch(`${long.url}/v1/jobs/${jobId}/stream?token=${token}`, { headers: { 'last-event-id': '5' } });
      expect(refused.status).toBe(401);
      // A page on another origin must be able to read that 401 (and fetch a new token), not a CORS failure.
      expect(refused.headers.get('access-control-allow-origin')).toBe('*');

      // So does a stream opened with a key that expires (keys create --expires-in), and its reconnect gets 401.
      const expiring = (await createApiKey(gw.deps.dataSource, 'stream-revoked', 'expiring', undefined, { expiresAt: new Date(Date.now() + 1500) })).key;
      // A job token that key hands out ends with the key, whatever lifetime was asked for.
      const minted = await fetch(`${long.url}/v1/jobs/${jobId}/token`, { method: 'POST', headers: { authorization: `Bearer ${expiring}`, 'content-type': 'application/json' }, body: JSON.stringify({ expiresInSeconds: 3600 }) });
      expect(minted.status).toBe(201);
      const mintedToken = (await minted.json()) as { expiresAt: string; streamUrl: string };
      expect(Date.parse(mintedToken.expiresAt) - Date.now()).toBeLessThanOrEqual(1500);
      const viaExpiring = await fetch(`${long.url}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${expiring}` } });
      expect(viaExpiring.status).toBe(200);
      expect((await readSse(viaExpiring)).map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
      expect((await fetch(`${long.url}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${expiring}`, 'last-event-id': '5' } })).status).toBe(401);
      expect((await fetch(`${long.url}${mintedToken.streamUrl}`, { headers: { 'last-event-id': '5' } })).status).toBe(401);
    } finally {
      for (const app of started) await app.app.close();
    }
  });

  it('serves /metrics only with the METRICS_TOKEN bearer token when one is set; health stays open for probes', async () => {
    const token = 'scrape-token-0123456789';
    const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, DB_POOL_SIZE: '2', METRICS_TOKEN: token });
    const guarded = await createGatewayApp(config, createLogger('gateway', 'silent'));
    await guarded.app.listen(0, '127.0.0.1');
    const url = (await guarded.app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      const scrape = (authorization?: string) => fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} });
      const anonymous = await scrape();
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain('reelay_');
      expect((await scrape(`Bearer ${token}x`)).status).toBe(401);
      expect((await scrape(`Bearer ${alice}`)).status).toBe(401);
      const allowed = await scrape(`Bearer ${token}`);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('reelay_http_request_seconds');
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
    } finally {
      await guarded.app.close();
    }
    expect(() => GatewayConfig.parse({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN|16 characters/);
  });

  it('bounds what unauthenticated callbacks may hold: a body must arrive in time, and only so many are read at once (503 past that)', async () => {
    const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, CALLBACK_MAX_CONCURRENT: '2', CALLBACK_BODY_TIMEOUT_MS: '4000', DB_POOL_SIZE: '2' });
    const gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
    await gw.app.listen(0, '127.0.0.1');
    const url = new URL((await gw.app.getUrl()).replace('[::1]', '127.0.0.1'));
    /** A callback whose body trickles in: 10 of 1,000 declared bytes now, one more every 300 ms. */
    const trickle = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), '127.0.0.1');
        let response = '';
        socket.on('data', (d) => (response += d));
        socket.on('error', reject);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(response);
        });
        socket.write(`POST /v1/providers/runway/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"ab"`);
        const drip = setInterval(() => socket.destroyed || socket.write(' '), 300);
      });
    try {
      const held = [trickle(), trickle()];
      // Time for both to be routed to the callback and start their bodies (a loaded CI machine is slow).
      await new Promise((r) => setTimeout(r, 1500));
      const refused = await fetch(`${url.origin}/v1/providers/runway/callback`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await body(refused)).error).toMatchObject({ code: 'service_unavailable' });
      for (const response of await Promise.all(held)) {
        expect(response).toMatch(/^HTTP\/1\.1 400 /);
        expect(response).toContain('The request body took too long');
      }
      const after = await fetch(`${url.origin}/v1/providers/runway/callback`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(after.status).toBe(200);
    } finally {
      await gw.app.close();
    }
  });

  it('limits what comes without a valid key per client address (callbacks, refused keys), believing X-Forwarded-For only from proxies TRUST_PROXY names', async () => {
    const start = async (env: Record<string, string>) => {
      const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: prefix, STORAGE_DIR: storageDir, PUBLIC_RATE_LIMIT_BURST: '3', PUBLIC_RATE_LIMIT_PER_SECOND: '0.5', DB_POOL_SIZE: '2', ...env });
      const gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
      await gw.app.listen(0, '127.0.0.1');
      return { app: gw.app, url: (await gw.app.getUrl()).replace('[::1]', '127.0.0.1') };
    };
    const callback = (url: string, from?: string) =>
      fetch(`${url}/v1/providers/runway/callback`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) } });

    const direct = await start({});
    try {
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await callback(direct.url)).status);
      statuses.push((await fetch(`${direct.url}/v1/models`, { headers: { authorization: 'Bearer rl_not_a_key' } })).status);
      const limited = await callback(direct.url, '203.0.113.9'); // not believed: no proxy is trusted
      statuses.push(limited.status);
      expect(statuses).toEqual([200, 200, 401, 429]);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await body(limited)).error).toMatchObject({ code: 'rate_limited' });
      expect((await fetch(`${direct.url}/v1/models`, { headers: { authorization: 'Bearer rl_not_a_key' } })).status).toBe(429);
      // A valid key spends its own budget, not its address's.
      expect((await fetch(`${direct.url}/v1/models`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200);
    } finally {
      await direct.app.close();
    }

    const proxied = await start({ TRUST_PROXY: 'loopback' });
    try {
      const first = [];
      for (let i = 0; i < 4; i++) first.push((await callback(proxied.url, '203.0.113.1')).status);
      expect(first).toEqual([200, 200, 200, 429]);
      // Another client behind the same proxy has its own budget.
      expect((await callback(proxied.url, '203.0.113.2')).status).toBe(200);
    } finally {
      await proxied.app.close();
    }
  });
});
