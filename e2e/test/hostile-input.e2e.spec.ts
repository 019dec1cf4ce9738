import { startStack, type Stack } from '@reelay/testing';
import fc from 'fast-check';
import { Client } from 'pg';
import { apiClient, isTerminalJob, type ApiClient } from './support/api-client';
import { rawRequest } from './support/raw-http';

// Hostile input against every public route of the gateway in front of the real pipeline: whatever
// arrives, the answer is never a 5xx, no process dies, and a 4xx never creates a job.

let stack: Stack;
let db: Client;
let key: string;
let alice: ApiClient;
let port: number;
let finishedJob: string;
/** Every job id the gateway answered 2xx for; at the end, exactly these exist in the log. */
const accepted = new Set<string>();

const RUNS = Number(process.env.HOSTILE_RUNS ?? 120);
const runs = (n = RUNS) => ({ numRuns: n, endOnFailure: true });

beforeAll(async () => {
  stack = await startStack({
    label: 'hostile',
    env: { PROVIDERS_ENABLED: 'local,runway', RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', PUBLIC_RATE_LIMIT_PER_SECOND: '100000', PUBLIC_RATE_LIMIT_BURST: '100000', POLL_DEADLINE_MS: '5000', ASSET_URL_SECRET: 'hostile-input-asset-url-secret-0123456789' },
  });
  port = stack.gateway.port;
  key = stack.createUser('alice', 10_000_000);
  alice = apiClient(stack.gateway.url, key);
  db = new Client({ connectionString: stack.db.url });
  await db.connect();
  const job = await alice.submit({ model: 'gen4.5', prompt: 'a quiet harbour [sim:success_after=1]', aspectRatio: '16:9', durationSeconds: 5 });
  finishedJob = job.body.id;
  accepted.add(finishedJob);
  await alice.waitFor(finishedJob, isTerminalJob);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

const jobsInLog = async () => Number((await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'JobSubmitted'`)).rows[0].n);
const versionOf = async (jobId: string) => Number((await db.query(`SELECT coalesce(max(stream_version), 0)::int AS v FROM events WHERE stream_id = $1`, [`job-${jobId}`])).rows[0].v);

/**
 * Sends one request and checks the invariants: an HTTP answer below 500, and on a 4xx no job
 * submitted and the finished job's stream untouched. Remembers the ids of accepted jobs.
 */
async function probe(label: string, send: () => Promise<{ status: number; body: string }>): Promise<number> {
  const [jobs, version] = [await jobsInLog(), await versionOf(finishedJob)];
  const r = await send();
  if (r.status === 0 || r.status >= 500) throw new Error(`${label} answered ${r.status || 'nothing'}: ${r.body.slice(0, 300)}`);
  if (r.status >= 400) {
    expect({ label, jobs: await jobsInLog(), version: await versionOf(finishedJob) }).toEqual({ label, jobs, version });
  } else {
    const id = r.status < 300 ? /^\{(?:"object":"video",)?"id":"(job_[0-9A-Z]{26})"/.exec(r.body)?.[1] : undefined;
    const created = id !== undefined && !accepted.has(id) ? 1 : 0;
    if (id) accepted.add(id);
    // A job written without an answer naming it would be a job the client cannot know about.
    expect({ label, status: r.status, jobs: await jobsInLog() }).toEqual({ label, status: r.status, jobs: jobs + created });
  }
  return r.status;
}

const http = async (method: string, path: string, init: { body?: string | Uint8Array; headers?: Record<string, string> } = {}) => {
  const res = await fetch(`${stack.gateway.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { authorization: `Bearer ${key}`, ...init.headers },
    body: init.body,
  });
  return { status: res.status, body: await res.text() };
};
const json = (method: string, path: string, body: string, headers: Record<string, string> = {}) =>
  http(method, path, { body, headers: { 'content-type': 'application/json', ...headers } });

// Strings made to hurt: NUL, lone surrogates, bidi controls, BOMs, combining marks, path and markup pieces.
const nasty = fc.constantFrom(
  '\u0000', '\ud800', '\udfff', '\udc00\ud800', '\u202e', '\u200f', '\u2066', '\ufeff', '\uffff', '\ufffd', '😀', 'e\u0301', '\u0085', '\u2028',
  '../', '..%2F', '%2e%2e', '%00', '\\', '"', "'", '<script>', '\r\n', '\t', ' ', '${x}', '{{x}}', '__proto__', 'constructor', 'a',
);
const hostileString = fc.oneof(
  fc.array(nasty, { maxLength: 30 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => '\u202e'.repeat(n)),
);
/** Percent-encodes the UTF-8 of any string (encodeURIComponent throws on unpaired surrogates). */
const pct = (s: string) => Array.from(Buffer.from(s, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
const anyJson = fc.jsonValue({ maxDepth: 3 });
const wrongType = fc.oneof(anyJson, hostileString, fc.constantFrom(null, true, -1, 0, 1e308, -0, 3.5, [], {}, { $gt: '' }));

const validJob = { model: 'gen4.5', prompt: 'a lighthouse at dusk [sim:success_after=1]', aspectRatio: '16:9', durationSeconds: 5 };
const FIELDS = ['model', 'prompt', 'aspectRatio', 'durationSeconds', 'resolution', 'seed', 'negativePrompt', 'referenceImage', 'webhookUrl', 'metadata', 'cancelAfterSeconds', 'extra', '__proto__'];

describe('POST /v1/jobs', () => {
  it('answers any JSON value with a 4xx or an accepted job', async () => {
    await fc.assert(fc.asyncProperty(anyJson, async (v) => void (await probe(`json ${JSON.stringify(v)}`, () => json('POST', '/v1/jobs', JSON.stringify(v))))), runs());
  });

  it('answers malformed JSON text with 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), anyJson.map((v) => JSON.stringify(v).slice(0, -1)), fc.constant('{"a":'), fc.constant('\ufeff{}')), async (text) => {
        const status = await probe(`text ${JSON.stringify(text)}`, () => json('POST', '/v1/jobs', text));
        expect({ text, status }).toEqual({ text, status: 400 });
      }),
      runs(),
    );
  });

  it('answers a valid body with one field replaced by anything (wrong types, odd unicode) with a 4xx or an accepted job', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), wrongType, async (field, value) => {
        const body = JSON.stringify({ ...validJob }).slice(0, -1) + `,${JSON.stringify(field)}:${JSON.stringify(value)}}`;
        await probe(`${field}=${JSON.stringify(value)}`, () => json('POST', '/v1/jobs', body));
      }),
      runs(),
    );
  });

  it('answers odd unicode in every string field, stored or refused but never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, fc.constantFrom('prompt', 'negativePrompt', 'metadata', 'webhookUrl', 'idempotency'), async (s, where) => {
        const body =
          where === 'metadata' ? { ...validJob, metadata: { [s.slice(0, 40) || 'k']: s } } : where === 'webhookUrl' ? { ...validJob, webhookUrl: `https://example.com/${s}` } : where === 'idempotency' ? validJob : { ...validJob, [where]: `${s} [sim:success_after=1]` };
        const headers: Record<string, string> = where === 'idempotency' ? { 'idempotency-key': pct(s).slice(0, 300) || 'k' } : {};
        await probe(`${where}: ${JSON.stringify(s).slice(0, 200)}`, () => json('POST', '/v1/jobs', JSON.stringify(body), headers));
      }),
      runs(),
    );
  });

  it('answers JSON nested tens of thousands of levels deep with 400, on both JSON routes', async () => {
    for (const levels of [65, 20_000, 100_000]) {
      const nested = `${'['.repeat(levels)}${']'.repeat(levels)}`;
      for (const body of [nested, JSON.stringify({ ...validJob, metadata: { deep: 0 } }).replace('0', nested)]) {
        expect(await probe(`/v1/jobs nested ${levels}`, () => json('POST', '/v1/jobs', body))).toBe(400);
        expect(await probe(`/v1/videos nested ${levels}`, () => json('POST', '/v1/videos', body))).toBe(400);
      }
    }
  });

  it('refuses 1 MB strings and bodies over the limit with 413 or 400', async () => {
    const mb = 'x'.repeat(1024 * 1024);
    // Over raw sockets: the gateway answers 413 and closes before the body is all sent, which fetch reports as EPIPE.
    const post = (body: string) => rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`, body);
    expect(await probe('1 MB prompt', () => post(JSON.stringify({ ...validJob, prompt: mb })))).toBe(413);
    expect(await probe('1 MB of NUL', () => post(JSON.stringify({ ...validJob, prompt: '\u0000'.repeat(1024 * 1024) })))).toBe(413);
    expect(await probe('declared 10 MB', () => rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 10000000`, '{}'))).toBe(413);
    const chunked = Buffer.from(`100000\r\n${'x'.repeat(0x100000)}\r\n0\r\n\r\n`);
    expect(await probe('chunked 1 MB', () => rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked`, chunked))).toBe(413);
    expect(await probe('4000-character prompt of astral characters', () => json('POST', '/v1/jobs', JSON.stringify({ ...validJob, prompt: '😀'.repeat(4001) })))).toBe(400);
  });
});

describe('slow and broken bodies', () => {
  it('takes a body dribbled a few bytes at a time', async () => {
    const body = JSON.stringify({ ...validJob, prompt: 'slowly [sim:success_after=1]' });
    const r = await rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`, body, { chunkBytes: 3, chunkDelayMs: 15 });
    expect(r.status).toBe(202);
    accepted.add(/"id":"(job_[0-9A-Z]{26})"/.exec(r.body)![1]);
  });

  it('survives bodies that stop early, lie about their length or are badly chunked', async () => {
    const before = await jobsInLog();
    const auth = `Authorization: Bearer ${key}\r\nContent-Type: application/json`;
    // The client gives up mid-body: no answer is owed, and nothing may be created.
    await rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 500`, '{"model":"gen4', { timeoutMs: 500 }).catch(() => undefined);
    const cases: [string, string, string][] = [
      ['two lengths', `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 2\r\nContent-Length: 3`, '{}x'],
      ['length and chunked', `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked`, '2\r\n{}\r\n0\r\n\r\n'],
      ['bad chunk size', `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nTransfer-Encoding: chunked`, 'zz\r\n{}\r\n0\r\n\r\n'],
      ['negative length', `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: -5`, '{}'],
      ['invalid UTF-8', `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 6`, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('latin1')],
    ];
    for (const [label, head, body] of cases) {
      const status = await probe(label, () => rawRequest(port, head, Buffer.from(body, 'latin1')));
      expect(status).toBeGreaterThanOrEqual(400);
    }
    expect(await jobsInLog()).toBe(before);
  });
});

describe('bad headers', () => {
  const contentType = fc.oneof(
    fc.constantFrom('', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=', 'application/json; charset=utf-16', 'application/xml+json', 'APPLICATION/JSON', 'image/png', ';;;', 'application/json\u0000'),
    fc.string({ unit: 'binary-ascii', maxLength: 80 }),
  );

  it('answers any Content-Type on every body route without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, fc.constantFrom('/v1/jobs', '/v1/assets', '/v1/videos', `/v1/jobs/${'job_' + '0'.repeat(26)}/cancel`, `/v1/jobs/${'job_' + '0'.repeat(26)}/regenerate`, '/v1/providers/runway/callback'), anyJson, async (type, path, body) => {
        const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: ${type.replace(/[\r\n]/g, '')}\r\nContent-Length: ${Buffer.byteLength(JSON.stringify(body))}`;
        await probe(`${path} with ${JSON.stringify(type)}`, () => rawRequest(port, head, JSON.stringify(body)));
      }),
      runs(),
    );
  });

  it('answers huge headers, duplicate Authorization and non-ASCII header names with a 4xx or 2xx', async () => {
    const get = (headers: string) => `GET /v1/jobs HTTP/1.1\r\nHost: x\r\n${headers}`;
    expect(await probe('64 KB header', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\nX-Big: ${'a'.repeat(64 * 1024)}`)))).toBe(431);
    expect(await probe('1000 headers', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: v`).join('\r\n')}`)))).toBeLessThan(500);
    expect(await probe('bad then good key', () => rawRequest(port, get(`Authorization: Bearer nope\r\nAuthorization: Bearer ${key}`)))).toBe(401);
    expect(await probe('good then bad key', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\nAuthorization: Bearer nope`)))).toBeLessThan(500);
    expect(await probe('two keys in one', () => rawRequest(port, get(`Authorization: Bearer ${key} ${key}`)))).toBe(401);
    expect(await probe('basic auth', () => rawRequest(port, get(`Authorization: Basic ${Buffer.from(`${key}:`).toString('base64')}`)))).toBe(401);
    expect(await probe('huge bearer', () => rawRequest(port, get(`Authorization: Bearer ${'k'.repeat(12_000)}`)))).toBe(401);
    expect(await probe('non-ASCII name', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\nX-Ünïcode: 1`)))).toBe(400);
    expect(await probe('NUL in a value', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\nX-A: a\u0000b`)))).toBe(400);
    expect(await probe('obsolete line folding', () => rawRequest(port, get(`Authorization: Bearer ${key}\r\nX-A: a\r\n b`)))).toBeLessThan(500);
    expect(await probe('no Host', () => rawRequest(port, `GET /v1/jobs HTTP/1.1\r\nAuthorization: Bearer ${key}`))).toBe(400);
  });

  it('answers a submit sent with Expect: 100-continue with 100 and then the accepted job', async () => {
    const body = JSON.stringify({ ...validJob, prompt: 'asked first [sim:success_after=1]' });
    const send = () => rawRequest(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}`, body);
    expect(await probe('expect 100-continue', send)).toBe(202);
  });

  it('answers random header names and values on submit without a 5xx', async () => {
    const name = fc.oneof(fc.constantFrom('idempotency-key', 'last-event-id', 'x-request-id', 'if-none-match', 'range', 'accept', 'content-encoding', 'expect', 'traceparent'), fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/));
    const value = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 300 }), fc.integer({ min: 1, max: 8000 }).map((n) => 'v'.repeat(n)), fc.constantFrom('gzip', '100-continue', 'bytes=0-', 'bytes=-1', 'bytes=5-1,2-3', '*', '-1', '1e309'));
    await fc.assert(
      fc.asyncProperty(name, value, fc.constantFrom('POST /v1/jobs', `GET /v1/jobs/${'job_' + '0'.repeat(26)}`, 'GET /v1/jobs', 'GET /v1/videos'), async (n, v, route) => {
        const body = JSON.stringify(validJob);
        const clean = v.replace(/[\r\n\u0000]/g, '');
        const head = `${route} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${n}: ${clean}\r\nContent-Length: ${route.startsWith('POST') ? Buffer.byteLength(body) : 0}`;
        await probe(`${route} ${n}: ${clean.slice(0, 80)}`, () => rawRequest(port, head, route.startsWith('POST') ? body : ''));
      }),
      runs(),
    );
  });
});

describe('ids and paths', () => {
  const trickyId = fc.oneof(
    fc.constantFrom('..', '../', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e', '%2F', '%252e%252e', '%00', '%', '%E0%A4%A', '%uD800', '%ED%A0%80', '.', '%20', 'job_', `job_${'0'.repeat(25)}`, `job_${'I'.repeat(26)}`, `job_${'0'.repeat(26)}%00`, `JOB_${'0'.repeat(26)}`, '__proto__', 'constructor', ';', '..;', '*'),
    fc.integer({ min: 100, max: 12_000 }).map((n) => 'a'.repeat(n)),
    fc.string({ maxLength: 60 }).map(encodeURIComponent),
    hostileString.map((s) => pct(s.slice(0, 200))),
  );
  const route = fc.constantFrom(
    ['GET', '/v1/jobs/:id'],
    ['GET', '/v1/jobs/:id/events'],
    ['GET', '/v1/jobs/:id/stream'],
    ['GET', '/v1/jobs/:id/content'],
    ['GET', '/v1/jobs/:id/poster'],
    ['POST', '/v1/jobs/:id/cancel'],
    ['POST', '/v1/jobs/:id/regenerate'],
    ['DELETE', '/v1/jobs/:id/output'],
    ['POST', '/v1/jobs/:id/token'],
    ['GET', '/v1/videos/:id'],
    ['DELETE', '/v1/videos/:id'],
    ['GET', '/v1/videos/:id/content'],
    ['POST', '/v1/videos/:id/remix'],
    ['POST', '/v1/providers/:id/callback'],
    ['GET', '/v1/assets/:id/content'],
    ['DELETE', '/v1/assets/:id'],
    ['GET', '/web/:id'],
    ['GET', '/:id'],
  );

  it('answers every id route with a 4xx for ids that are not the caller’s jobs', async () => {
    await fc.assert(
      fc.asyncProperty(route, trickyId, async ([method, path], id) => {
        const target = path.replace(':id', id).replace(/[\s\u0000-\u001f\u007f-\uffff]/g, pct);
        const status = await probe(`${method} ${target.slice(0, 200)}`, () => rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 0`));
        // A callback for any provider name is taken (200); /:id may be the page, a known file or /docs.
        if (!path.includes('callback') && path !== '/:id' && id !== '') expect([400, 404, 405, 414, 431]).toContain(status);
      }),
      runs(),
    );
  });

  it('serves no file outside the web folder and nothing for prototype names', async () => {
    for (const p of ['/web/__proto__', '/web/constructor', '/web/toString', '/web/hasOwnProperty', '/web/..%2Fmain.js', '/web/..%2F..%2Fpackage.json', '/web/%2e%2e%2fapp.module.js', '/web/index.html']) {
      expect({ p, status: await probe(p, () => http('GET', p)) }).toEqual({ p, status: 404 });
    }
    for (const p of ['/', '/docs', '/openapi.json', '/web/app.js', '/web/app.css']) expect(await probe(p, () => http('GET', p))).toBe(200);
  });

  it('answers odd query strings on list and content routes with 200 or 400', async () => {
    const param = fc.tuple(
      fc.constantFrom('status', 'limit', 'cursor', 'after', 'order', 'variant', 'expires', 'sig', 'limit[$gt]', 'status[]', '__proto__', 'constructor[prototype]', 'x'),
      fc.oneof(hostileString.map(pct), fc.constantFrom('0', '-1', '101', '1e3', 'NaN', 'Infinity', '20', 'asc', 'desc', 'video', 'thumbnail', 'queued', '', 'eyJ4Ijp9', 'WyIyMDI0LTAxLTAxVDAwOjAwOjAwWiIsIngiXQ')),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/jobs', '/v1/videos', `/v1/videos/${finishedJob}/content`, `/v1/jobs/${finishedJob}/events`, '/v1/models', '/v1/assets/asset_AAAAAAAAAAAAAAAAAAAAAAAA/content'), fc.array(param, { maxLength: 4 }), async (path, params) => {
        const qs = params.map(([k, v]) => `${k}=${v}`).join('&');
        const status = await probe(`${path}?${qs}`, () => http('GET', `${path}?${qs}`));
        expect([200, 400, 404, 416, 431]).toContain(status);
      }),
      runs(),
    );
  });

  it('replays a finished job’s stream whatever Last-Event-ID says, or answers 204 after its last event', async () => {
    const lastVersion = (await alice.get(finishedJob)).body.version;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 40 }), fc.integer().map(String), fc.constantFrom('-1', '1e309', '99999999999999999999', '0x10', ' 2')), async (id) => {
        const clean = id.replace(/[\u0000-\u001f\u007f]/g, '');
        // fetch, not a raw socket: the stream keeps its connection alive after the response ends.
        const status = await probe(`last-event-id ${clean}`, () => http('GET', `/v1/jobs/${finishedJob}/stream`, { headers: { 'last-event-id': clean } }));
        // A well-formed id at or past the terminal event: nothing follows, and 204 stops an EventSource.
        const resumesAfterEnd = /^\d{1,9}$/.test(clean.trim()) && Number(clean.trim()) >= lastVersion;
        expect(status).toBe(resumesAfterEnd ? 204 : 200);
      }),
      runs(40),
    );
  });
});

describe('uploads, videos and callbacks', () => {
  it('answers random upload bodies and types with 201 or a 4xx', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/svg+xml', 'application/octet-stream', 'text/html'), fc.uint8Array({ maxLength: 2000 }), fc.boolean(), async (type, bytes, withMagic) => {
        const body = withMagic ? Buffer.concat([png, Buffer.from(bytes)]) : Buffer.from(bytes);
        const status = await probe(`upload ${type} ${body.length} bytes`, () => http('POST', '/v1/assets', { body: new Uint8Array(body), headers: { 'content-type': type } }));
        expect({ type, created: status === 201, refused: status >= 400 && status < 500 }).toEqual({ type, created: status === 201, refused: status !== 201 });
      }),
      runs(),
    );
    const big = Buffer.alloc(11 * 1024 * 1024);
    expect(await probe('11 MB upload', () => rawRequest(port, `POST /v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: image/png\r\nContent-Length: ${big.length}`, big))).toBe(413);
  });

  it('answers random /v1/videos bodies (JSON and multipart) in OpenAI’s envelope, never a 5xx', async () => {
    const field = fc.tuple(fc.constantFrom('model', 'prompt', 'seconds', 'size', 'input_reference', 'input_reference[image_url]', 'input_reference[file_id]', 'input_reference[x]', '__proto__', 'x'), hostileString);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(field, { maxLength: 6 }), async (multipart, fields) => {
        const base = { model: 'gen4.5', prompt: 'a bay [sim:success_after=1]', seconds: '5', size: '1280x720' };
        let r = { status: 0, body: '' };
        const send = async () => {
          if (!multipart) return (r = await json('POST', '/v1/videos', JSON.stringify({ ...base, ...Object.fromEntries(fields) })));
          const form = new FormData();
          for (const [k, v] of Object.entries(base)) form.append(k, v);
          for (const [k, v] of fields) form.append(k, v);
          const encoded = new Response(form);
          const type = encoded.headers.get('content-type')!;
          return (r = await http('POST', '/v1/videos', { body: new Uint8Array(await encoded.arrayBuffer()), headers: { 'content-type': type } }));
        };
        await probe(`videos ${multipart ? 'multipart' : 'json'} ${JSON.stringify(fields).slice(0, 200)}`, send);
        if (r.status >= 400) expect(JSON.parse(r.body)).toEqual({ error: expect.objectContaining({ message: expect.any(String), type: expect.any(String) }) });
      }),
      runs(),
    );
  });

  it('answers broken multipart bodies with a 4xx', async () => {
    const cases = ['--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi', '--b--', '', '--x\r\n\r\n--x--', `--b\r\nContent-Disposition: form-data; name="input_reference"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${'\u0000'.repeat(100)}\r\n--b--\r\n`];
    for (const body of cases) {
      const status = await probe(`multipart ${JSON.stringify(body).slice(0, 60)}`, () => http('POST', '/v1/videos', { body, headers: { 'content-type': 'multipart/form-data; boundary=b' } }));
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  it('takes any callback body for a well-formed provider name with 200, and no process dies of it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('runway', 'seedance', 'openai', 'luma', 'local', 'nope'), fc.oneof(anyJson.map((v) => JSON.stringify(v)), hostileString), async (provider, body) => {
        const status = await probe(`callback ${provider}`, () => http('POST', `/v1/providers/${provider}/callback`, { body, headers: { 'content-type': 'application/json', 'webhook-id': 'x', 'webhook-signature': 'v1,abc', 'webhook-timestamp': '1' } }));
        expect(status).toBe(200);
      }),
      runs(60),
    );
  });
});

describe('afterwards', () => {
  it('every process is still up and the gateway answers /health/live', async () => {
    for (const s of stack.services) expect({ name: s.name, exitCode: s.child.exitCode, signal: s.child.signalCode }).toEqual({ name: s.name, exitCode: null, signal: null });
    expect((await fetch(`${stack.gateway.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${stack.gateway.url}/health/ready`)).status).toBe(200);
  });

  it('the log holds exactly the jobs that were accepted, and they all finish', async () => {
    const ids = (await db.query(`SELECT stream_id FROM events WHERE type = 'JobSubmitted'`)).rows.map((r) => String(r.stream_id).replace(/^job-/, ''));
    expect(new Set(ids)).toEqual(accepted);
    for (const id of accepted) await alice.waitFor(id, isTerminalJob, 30_000);
  }, 120_000);
});


describe('idle keep-alive connections', () => {
  it('keeps an idle connection open longer than clients do (undici drops its own after 4 s), so reuse never races a server-side close', async () => {
    const { connect } = await import('node:net');
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    const ask = async () => {
      const before = (received.match(/HTTP\/1\.1 200/g) ?? []).length;
      socket.write(`GET /health/live HTTP/1.1\r\nHost: reelay\r\n\r\n`);
      for (let i = 0; i < 200 && (received.match(/HTTP\/1\.1 200/g) ?? []).length === before; i++) await new Promise((r) => setTimeout(r, 25));
      return (received.match(/HTTP\/1\.1 200/g) ?? []).length - before;
    };
    try {
      expect(await ask()).toBe(1);
      await new Promise((r) => setTimeout(r, 6_000)); // past Node's default 5 s keepAliveTimeout
      expect(closed).toBe(false);
      expect(await ask()).toBe(1);
    } finally {
      socket.destroy();
    }
  });
});
