import { startE2EStack, type E2EStack } from './e2e-stack';

jest.setTimeout(120_000);

interface JobToken {
  token: string;
  expiresAt: string;
  streamUrl: string;
  contentUrl: string;
}

let stack: E2EStack;
let alice: string;
let bob: string;

const call = async (key: string | null, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
  const res = await fetch(stack.url + path, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: (type.includes('json') ? await res.json() : await res.text()) as JobToken & { error?: { code: string }; status?: string; id?: string } & string };
};
const succeededJob = async (prompt: string): Promise<string> => {
  const { body } = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt, aspectRatio: '16:9', durationSeconds: 1, resolution: '480p', webhookUrl: 'https://hooks.example.com/video?key=whk-secret-1', metadata: { orderId: 'internal-7' } } });
  for (let i = 0; i < 300; i++) {
    const job = await call(alice, 'GET', `/v1/jobs/${body.id}`);
    if (job.body.status === 'succeeded') return body.id as string;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('job did not succeed');
};

beforeAll(async () => {
  stack = await startE2EStack('gwtoken', { RATE_LIMIT_BURST: '1000', SSE_MAX_STREAMS_PER_USER: '2' });
  alice = await stack.createKey('token-alice', 100);
  bob = await stack.createKey('token-bob', 100);
});
afterAll(() => stack?.stop());

describe('job tokens: one job read without an API key (the services as processes)', () => {
  let jobId: string;
  let other: string;
  let token: JobToken;

  beforeAll(async () => {
    [jobId, other] = await Promise.all([succeededJob('a tern over surf'), succeededJob('a gull on a post')]);
    const made = await call(alice, 'POST', `/v1/jobs/${jobId}/token`);
    expect(made.status).toBe(201);
    token = made.body;
  });

  it('is made for the caller\'s job, for 15 minutes unless asked otherwise', async () => {
    expect(token.streamUrl).toBe(`/v1/jobs/${jobId}/stream?token=${encodeURIComponent(token.token)}`);
    expect(token.contentUrl).toBe(`/v1/jobs/${jobId}/content?token=${encodeURIComponent(token.token)}`);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    const hour = (await call(alice, 'POST', `/v1/jobs/${jobId}/token`, { body: { expiresInSeconds: 3600 } })).body;
    expect(Date.parse(hour.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect((await call(alice, 'POST', `/v1/jobs/${jobId}/token`, { body: { expiresInSeconds: 30 } })).status).toBe(400);
    expect((await call(alice, 'POST', `/v1/jobs/${jobId}/token`, { body: { scope: 'all' } })).status).toBe(400);
  });

  it('reads the job\'s stream (from any origin) and its video (with Range) without a key', async () => {
    const stream = await call(null, 'GET', token.streamUrl);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe('*');
    expect(stream.body).toContain('"status":"succeeded"');
    // Read in an end user's browser: the API client's own plumbing is left out (the key's stream has it).
    expect(stream.body).not.toContain('whk-secret-1');
    expect(stream.body).not.toContain('internal-7');
    expect(stream.body).toContain('"webhookUrl":null');
    const own = await call(alice, 'GET', `/v1/jobs/${jobId}/stream`);
    expect(own.body).toContain('whk-secret-1');
    expect(own.body).toContain('internal-7');
    const part = await fetch(stack.url + token.contentUrl, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
  });

  it('reads nothing else: not another job, not another route, not changed, not with nothing', async () => {
    const query = `token=${encodeURIComponent(token.token)}`;
    for (const path of [`/v1/jobs/${other}/stream?${query}`, `/v1/jobs/${other}/content?${query}`, `/v1/jobs/${jobId}?${query}`, `/v1/jobs/${jobId}/events?${query}`, `/v1/jobs?${query}`]) {
      expect({ path, status: (await call(null, 'GET', path)).status }).toEqual({ path, status: 401 });
    }
    expect((await call(null, 'POST', `/v1/jobs/${jobId}/cancel?${query}`)).status).toBe(401);
    expect((await call(null, 'GET', `/v1/jobs/${jobId}/stream?token=${encodeURIComponent(token.token.slice(0, -3))}abc`)).status).toBe(401);
    expect((await call(null, 'GET', `/v1/jobs/${jobId}/content`)).status).toBe(401);
  });

  it('allows any origin only on answers to a token, not on those to the key', async () => {
    for (const path of [`/v1/jobs/${jobId}/stream`, `/v1/jobs/${jobId}/content`]) {
      expect((await call(alice, 'GET', path)).headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('counts a job\'s token streams per job, apart from the key holder\'s own streams', async () => {
    // A job still running keeps its streams open.
    const { body } = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a long pan over hills', aspectRatio: '16:9', durationSeconds: 10, resolution: '720p' } });
    const viewer = (await call(alice, 'POST', `/v1/jobs/${body.id}/token`)).body;
    const controller = new AbortController();
    const open = (key: string | null, path: string) =>
      fetch(stack.url + path, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: controller.signal }).then((r) => r.status);
    try {
      expect(await Promise.all([open(null, viewer.streamUrl), open(null, viewer.streamUrl)])).toEqual([200, 200]);
      expect(await open(null, viewer.streamUrl)).toBe(429);
      // The owner's own streams are not held up by the viewers'.
      expect(await open(alice, `/v1/jobs/${body.id}/stream`)).toBe(200);
    } finally {
      controller.abort();
    }
  });

  it('is made only for the caller\'s own jobs: another user\'s job answers 404', async () => {
    const theirs = await call(bob, 'POST', `/v1/jobs/${jobId}/token`);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error?.code).toBe('not_found');
  });
});
