import { startStack, type Stack } from '@reelay/testing';
import { Client } from 'pg';
import { apiClient, isTerminalJob, type ApiClient } from './support/api-client';

// The authorization matrix over the real stack: another user's ids are answered exactly like ids
// that do not exist (404, nothing changes), and every /v1 route wants a valid key (401 in the
// route's own envelope).

let stack: Stack;
let db: Client;
let alice: ApiClient;
let aliceKey: string;
let bob: ApiClient;
let bobKey: string;
let revokedKey: string;
let running: string;
let finished: string;
let asset: string;
const MISSING = `job_${'0'.repeat(26)}`;

const runway = (tags: string) => ({ model: 'gen4.5', prompt: `a lighthouse [sim:${tags}]`, aspectRatio: '16:9', durationSeconds: 5 });
// A 64x64 PNG header: what the gateway and intake read of an image (signature and IHDR size).
const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), u32(64), u32(64), Buffer.from('0802000000', 'hex'), Buffer.alloc(64)]);

beforeAll(async () => {
  stack = await startStack({ label: 'authz', env: { PROVIDERS_ENABLED: 'runway', POLL_DEADLINE_MS: '60000', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000' } });
  aliceKey = stack.createUser('alice', 100_000);
  alice = apiClient(stack.gateway.url, aliceKey);
  bobKey = stack.createUser('bob', 100_000);
  bob = apiClient(stack.gateway.url, bobKey);
  revokedKey = stack.createUser('carol', 100);
  expect(stack.cli('keys', 'revoke', revokedKey).code).toBe(0);
  db = new Client({ connectionString: stack.db.url });
  await db.connect();

  running = (await alice.submit(runway('never_finish'))).body.id;
  finished = (await alice.submit(runway('success_after=1'))).body.id;
  await alice.waitFor(running, (j) => unfinished.includes(j.status) && j.provider !== null);
  await alice.waitFor(finished, isTerminalJob);
  const up = await fetch(`${stack.gateway.url}/v1/assets`, { method: 'POST', headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'image/png' }, body: PNG });
  expect(up.status).toBe(201);
  asset = ((await up.json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

/** Cancellations and output deletions recorded on alice's jobs (a running job moves on by itself: delayed, progress). */
const cancellations = async () =>
  Number((await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1) AND type IN ('JobCanceled', 'JobOutputDeleted')`, [[`job-${running}`, `job-${finished}`]])).rows[0].n);
const unfinished = ['running', 'delayed'];

/** The same request for alice's job and for a job that does not exist: both 404, same body. */
const ROUTES: [string, string][] = [
  ['GET', '/v1/jobs/:id'],
  ['GET', '/v1/jobs/:id/events'],
  ['GET', '/v1/jobs/:id/stream'],
  ['GET', '/v1/jobs/:id/content'],
  ['GET', '/v1/jobs/:id/poster'],
  ['POST', '/v1/jobs/:id/cancel'],
  ['POST', '/v1/jobs/:id/regenerate'],
  ['DELETE', '/v1/jobs/:id/output'],
  ['POST', '/v1/jobs/:id/token'],
  ['GET', '/v1/jobs/:id/webhooks'],
  ['GET', '/v1/videos/:id'],
  ['DELETE', '/v1/videos/:id'],
  ['GET', '/v1/videos/:id/content'],
  ['GET', '/v1/videos/:id/content?variant=thumbnail'],
  ['POST', '/v1/videos/:id/remix'],
];
/** Bodies of the routes that need one to get past their body check (as bob's code would send). */
const BODIES: Record<string, unknown> = { '/v1/videos/:id/remix': { prompt: 'bob’s take on it' } };

describe("another user's ids", () => {
  it.each(ROUTES)('%s %s answers 404 for both of alice’s jobs, as for a missing job', async (method, path) => {
    const body = BODIES[path];
    const missing = await bob.call(method, path.replace(':id', MISSING), body);
    expect(missing.status).toBe(404);
    for (const id of [running, finished]) {
      const r = await bob.call(method, path.replace(':id', id), body);
      expect({ status: r.status, body: JSON.stringify(r.body).replaceAll(id, MISSING) }).toEqual({ status: 404, body: JSON.stringify(missing.body) });
    }
    expect(await cancellations()).toBe(0);
    if (path.startsWith('/v1/videos')) expect(missing.body).toMatchObject({ error: { type: 'not_found_error', code: 'not_found' } });
    else expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('leaves alice’s running job running after bob’s cancel and delete', async () => {
    expect(unfinished).toContain((await alice.get(running)).body.status);
  });

  it('never lists alice’s jobs to bob, nor pages from them', async () => {
    expect((await bob.call<{ data: unknown[] }>('GET', '/v1/jobs')).body.data).toEqual([]);
    expect((await bob.call<{ data: unknown[] }>('GET', '/v1/videos')).body.data).toEqual([]);
    const fromAlice = await bob.call('GET', `/v1/videos?after=${running}`);
    const fromMissing = await bob.call('GET', `/v1/videos?after=${MISSING}`);
    expect(fromAlice.status).toBe(400);
    expect(JSON.stringify(fromAlice.body)).toBe(JSON.stringify(fromMissing.body));
    expect((await alice.call<{ data: unknown[] }>('GET', '/v1/jobs')).body.data).toHaveLength(2);
  });

  it('fails bob’s job that uses alice’s uploaded asset with asset_fetch_failed', async () => {
    const r = await bob.submit({ ...runway('success_after=1'), referenceImage: { assetId: asset } });
    expect(r.status).toBe(202);
    expect(await bob.waitFor(r.body.id, isTerminalJob)).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });

  it('fails bob’s video that names alice’s asset as file_id the same way', async () => {
    const r = await bob.call<{ id: string; status: string }>('POST', '/v1/videos', { model: 'gen4-turbo', prompt: 'a bay [sim:success_after=1]', seconds: '5', size: '1280x720', input_reference: { file_id: asset } });
    expect(r.status).toBe(200);
    expect(await bob.waitFor(r.body.id, isTerminalJob)).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });

  it('answers bob’s delete of alice’s asset with 404, as for a missing one (the next test uses it)', async () => {
    const theirs = await bob.call('DELETE', `/v1/assets/${asset}`);
    const missing = await bob.call('DELETE', `/v1/assets/${asset.slice(0, -4)}AAAA`);
    expect({ status: theirs.status, body: JSON.stringify(theirs.body).replaceAll(asset, 'X') }).toEqual({ status: 404, body: JSON.stringify(missing.body).replaceAll(`${asset.slice(0, -4)}AAAA`, 'X') });
  });

  it('alice can use her own asset (the control)', async () => {
    const r = await alice.submit({ ...runway('success_after=1'), referenceImage: { assetId: asset } });
    expect(r.status).toBe(202);
    expect(await alice.waitFor(r.body.id, isTerminalJob)).toMatchObject({ status: 'succeeded' });
  });
});

describe('API keys', () => {
  const V1: [string, string][] = [
    ['POST', '/v1/jobs'],
    ['GET', '/v1/jobs'],
    ['GET', '/v1/jobs/:id'],
    ['GET', '/v1/jobs/:id/events'],
    ['GET', '/v1/jobs/:id/stream'],
    ['GET', '/v1/jobs/:id/content'],
    ['GET', '/v1/jobs/:id/poster'],
    ['POST', '/v1/jobs/:id/cancel'],
    ['POST', '/v1/jobs/:id/regenerate'],
    ['DELETE', '/v1/jobs/:id/output'],
    ['POST', '/v1/jobs/:id/token'],
    ['GET', '/v1/jobs/:id/webhooks'],
    ['POST', '/v1/jobs/cancel'],
    ['POST', '/v1/jobs/regenerate-failed'],
    ['POST', '/v1/assets'],
    ['DELETE', '/v1/assets/:id'],
    ['GET', '/v1/models'],
    ['GET', '/v1/credits'],
    ['GET', '/v1/webhooks/secret'],
    ['POST', '/v1/webhooks/secret/rotate'],
    ['POST', '/v1/webhooks/test'],
    ['POST', '/v1/videos'],
    ['GET', '/v1/videos'],
    ['GET', '/v1/videos/:id'],
    ['DELETE', '/v1/videos/:id'],
    ['GET', '/v1/videos/:id/content'],
    ['POST', '/v1/videos/:id/remix'],
  ];
  const credentials: [string, Record<string, string>][] = [
    ['no key', {}],
    ['an unknown key', { authorization: 'Bearer rly_not_a_real_key' }],
    ['a revoked key', { authorization: `Bearer ${'REVOKED'}` }],
    ['another scheme', { authorization: `Basic ${Buffer.from('bob:x').toString('base64')}` }],
    ['the key without a scheme', { authorization: 'BOBKEY' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ];

  it.each(V1.flatMap(([m, p]) => credentials.map(([c, h]): [string, string, string, Record<string, string>] => [m, p, c, h])))('%s %s with %s: 401', async (method, path, _c, headers) => {
    const auth = headers.authorization?.replace('REVOKED', revokedKey).replace('BOBKEY', bobKey);
    const res = await fetch(`${stack.gateway.url}${path.replace(':id', running)}`, {
      method,
      headers: { ...(auth !== undefined ? { authorization: auth } : {}), 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify(runway('success_after=1')) : undefined,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = await res.json();
    if (path.startsWith('/v1/videos')) expect(body).toEqual({ error: { message: expect.any(String), type: 'authentication_error', param: null, code: 'unauthorized' } });
    else expect(body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(JSON.stringify(body)).not.toContain(bobKey);
  });

  it('created nothing for the refused requests, and alice’s running job is untouched', async () => {
    const jobs = (await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'JobSubmitted'`)).rows[0].n;
    // alice: running, finished, the control with her asset; bob: the two failed for naming her asset. None of the 401s.
    expect(jobs).toBe(5);
    expect(unfinished).toContain((await alice.get(running)).body.status);
    expect(await cancellations()).toBe(0);
  });

  it('the public routes need no key', async () => {
    for (const p of ['/', '/docs', '/openapi.json', '/health/live']) expect((await fetch(`${stack.gateway.url}${p}`)).status).toBe(200);
    expect((await fetch(`${stack.gateway.url}/v1/providers/runway/callback`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(200);
  });
});
