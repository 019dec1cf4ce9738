import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchUserFile } from './fetch-user-file';
import { safeFetch, type SafeFetchOptions } from './safe-fetch';
import { UnsafeUrlError, type UnsafeUrlReason } from './unsafe-url-error';

// Two local servers: `origin` is the one callers allow (via allowHosts); `forbidden` stands in for
// an internal service that must never be reached, so every refusal also asserts it saw nothing.
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let origin: http.Server;
let forbidden: http.Server;
let originPort: number;
let forbiddenPort: number;
let forbiddenHits: number;
const seen: Seen[] = [];
const dribblers = new Set<NodeJS.Timeout>();

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ method: req.method ?? '', url: url.pathname + url.search, headers: req.headers, body });
  switch (url.pathname) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      return;
    case '/echo':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body }));
      return;
    case '/redirect':
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '' }).end();
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop' }).end();
      return;
    case '/big-declared':
      res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000, 0x61));
      return;
    case '/big-chunked': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500, 0x62));
      res.end();
      return;
    }
    case '/slow': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      const timer = setInterval(() => res.write('a'), 50);
      dribblers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        dribblers.delete(timer);
      });
      return;
    }
    case '/hang':
      return; // never answers
    default:
      res.writeHead(404).end();
  }
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  forbidden = http.createServer((_req, res) => {
    forbiddenHits++;
    res.writeHead(200).end('internal secret');
  });
  originPort = await listen(origin);
  forbiddenPort = await listen(forbidden);
});

beforeEach(() => {
  forbiddenHits = 0;
  seen.length = 0;
});

afterAll(async () => {
  for (const timer of dribblers) clearInterval(timer);
  for (const server of [origin, forbidden]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function allowed(extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions {
  return { maxBytes: 1024, timeoutMs: 3000, allowHosts: [`127.0.0.1:${originPort}`], ...extra };
}

function at(path: string): string {
  return `http://127.0.0.1:${originPort}${path}`;
}

function redirectTo(target: string, status = 302): string {
  return at(`/redirect?status=${status}&to=${encodeURIComponent(target)}`);
}

async function refusedWith(promise: Promise<unknown>, reason: UnsafeUrlReason): Promise<UnsafeUrlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeUrlError);
  expect((error as UnsafeUrlError).reason).toBe(reason);
  return error as UnsafeUrlError;
}

describe('safeFetch against local servers', () => {
  it('fetches from an allowed host', async () => {
    const res = await safeFetch(at('/ok'), allowed());
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.finalUrl).toBe(at('/ok'));
  });

  it('with statusOnly, answers with the status of a body too large or too slow to read, without reading it', async () => {
    for (const path of ['/big-declared', '/big-chunked', '/slow']) {
      const res = await safeFetch(at(path), allowed({ statusOnly: true, maxBytes: 0, timeoutMs: 1000 }));
      expect([path, res.status, res.body.length]).toEqual([path, 200, 0]);
    }
  });

  it('accepts a body of exactly maxBytes', async () => {
    const res = await safeFetch(at('/ok'), allowed({ maxBytes: 5 }));
    expect(res.body.toString()).toBe('hello');
  });

  it('sends a method, headers and body', async () => {
    const res = await safeFetch(at('/echo'), allowed({ method: 'post', headers: { 'X-Test': 'yes' }, body: '{"a":1}' }));
    expect(JSON.parse(res.body.toString())).toEqual({ method: 'POST', body: '{"a":1}' });
    expect(seen[0].headers['x-test']).toBe('yes');
    expect(seen[0].headers['content-length']).toBe('7');
  });

  it('follows a redirect to the same allowed host and reports the final URL', async () => {
    const res = await safeFetch(redirectTo('/ok'), allowed());
    expect(res.status).toBe(200);
    expect(res.finalUrl).toBe(at('/ok'));
  });

  it('turns POST into GET on 303 and keeps method and body on 307', async () => {
    const after303 = await safeFetch(redirectTo('/echo', 303), allowed({ method: 'POST', body: 'x=1' }));
    expect(JSON.parse(after303.body.toString())).toEqual({ method: 'GET', body: '' });
    const after307 = await safeFetch(redirectTo('/echo', 307), allowed({ method: 'POST', body: 'x=1' }));
    expect(JSON.parse(after307.body.toString())).toEqual({ method: 'POST', body: 'x=1' });
  });

  it('drops credentials when a redirect changes origin', async () => {
    const opts = allowed({ headers: { authorization: 'Bearer s3cret', 'x-keep': 'kept' } });
    opts.allowHosts = [...(opts.allowHosts ?? []), `localhost:${originPort}`];
    await safeFetch(redirectTo(`http://localhost:${originPort}/ok`), opts);
    const last = seen[seen.length - 1];
    expect(last.url).toBe('/ok');
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers['x-keep']).toBe('kept');
    expect(seen[0].headers.authorization).toBe('Bearer s3cret');
  });

  it('connects to the address it validated, without resolving the name again', async () => {
    // The system resolver cannot resolve `pinned.test`; the fetch only works if the connection
    // uses the injected answer.
    const calls: string[] = [];
    const resolver = async (hostname: string) => {
      calls.push(hostname);
      return [{ address: '127.0.0.1', family: 4 as const }];
    };
    const res = await safeFetch(`http://pinned.test:${originPort}/ok`, {
      maxBytes: 1024,
      timeoutMs: 3000,
      resolver,
      allowHosts: [`pinned.test:${originPort}`],
    });
    expect(res.body.toString()).toBe('hello');
    expect(calls).toEqual(['pinned.test']);
  });
});

describe('SSRF matrix: refused before any connection', () => {
  const direct: Array<[string, UnsafeUrlReason]> = [
    ['http://127.0.0.1:{forbidden}/', 'private_address'],
    ['http://10.0.0.1/', 'private_address'],
    ['http://192.168.1.1/', 'private_address'],
    ['http://172.20.0.1/', 'private_address'],
    ['http://100.64.1.1/', 'private_address'],
    ['http://169.254.1.1/', 'private_address'],
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'private_address'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'private_address'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'blocked_hostname'],
    ['http://[::1]:{forbidden}/', 'private_address'],
    ['http://[fe80::1]/', 'private_address'],
    ['http://[fc00::1]/', 'private_address'],
    ['http://2130706433:{forbidden}/', 'private_address'],
    ['http://0177.0.0.1:{forbidden}/', 'private_address'],
    ['http://0x7f.1:{forbidden}/', 'private_address'],
    ['http://[::ffff:127.0.0.1]:{forbidden}/', 'private_address'],
    ['http://localhost:{forbidden}/', 'private_address'],
    ['file:///etc/passwd', 'scheme_not_allowed'],
  ];

  it.each(direct)('refuses %s with %s', async (template, reason) => {
    const url = template.replace('{forbidden}', String(forbiddenPort));
    await refusedWith(safeFetch(url, allowed({ allowedPorts: 'any' })), reason);
    expect(forbiddenHits).toBe(0);
  });

  it('refuses a custom name that the resolver maps to a private address', async () => {
    const resolver = async () => [{ address: '127.0.0.1', family: 4 as const }];
    await refusedWith(
      safeFetch(`http://files.customer.test:${forbiddenPort}/`, allowed({ resolver, allowedPorts: 'any' })),
      'private_address',
    );
    expect(forbiddenHits).toBe(0);
  });

  const redirects: Array<[string, UnsafeUrlReason]> = [
    ['http://127.0.0.1:{forbidden}/', 'private_address'],
    ['http://127.0.0.1/', 'private_address'],
    ['http://localhost:{forbidden}/', 'private_address'],
    ['http://0x7f.1:{forbidden}/', 'private_address'],
    ['http://[::1]:{forbidden}/', 'private_address'],
    ['http://[::ffff:127.0.0.1]:{forbidden}/', 'private_address'],
    ['http://169.254.169.254/latest/meta-data/', 'private_address'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'private_address'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'blocked_hostname'],
    ['http://10.0.0.5/', 'private_address'],
    ['file:///etc/passwd', 'scheme_not_allowed'],
    ['http://user:pw@example.com/', 'credentials_in_url'],
    ['http://[::1', 'invalid_redirect'],
  ];

  it.each(redirects)('refuses a redirect from the allowed host to %s with %s', async (template, reason) => {
    const target = template.replace('{forbidden}', String(forbiddenPort));
    for (const status of [302, 307]) {
      const error = await refusedWith(safeFetch(redirectTo(target, status), allowed({ allowedPorts: 'any' })), reason);
      // The redirect target came from the server, not the user: the message never echoes it.
      expect(error.message).not.toMatch(/127\.0\.0\.1|169\.254|::1|fd00|metadata|localhost/);
    }
    expect(forbiddenHits).toBe(0);
  });

  it('refuses redirects to non-default ports unless configured', async () => {
    await refusedWith(safeFetch(redirectTo(`http://127.0.0.1:${forbiddenPort}/`), allowed()), 'port_not_allowed');
    expect(forbiddenHits).toBe(0);
  });

  it('stops after maxRedirects', async () => {
    await refusedWith(safeFetch(at('/loop'), allowed({ maxRedirects: 2 })), 'too_many_redirects');
    expect(seen).toHaveLength(3);
    await refusedWith(safeFetch(redirectTo('/ok'), allowed({ maxRedirects: 0 })), 'too_many_redirects');
  });

  it('refuses a body larger than maxBytes when Content-Length declares it', async () => {
    await refusedWith(safeFetch(at('/big-declared'), allowed({ maxBytes: 1000 })), 'too_large');
  });

  it('refuses a body larger than maxBytes when streamed without a length', async () => {
    await refusedWith(safeFetch(at('/big-chunked'), allowed({ maxBytes: 1000 })), 'too_large');
  });

  it('aborts a body that dribbles past the total deadline', async () => {
    await refusedWith(safeFetch(at('/slow'), allowed({ maxBytes: 1_000_000, timeoutMs: 300 })), 'timeout');
  });

  it('aborts when headers never arrive (total deadline and headers deadline)', async () => {
    await refusedWith(safeFetch(at('/hang'), allowed({ timeoutMs: 300 })), 'timeout');
    await refusedWith(safeFetch(at('/hang'), allowed({ timeoutMs: 10_000, headersTimeoutMs: 200 })), 'timeout');
  });

  it('reports a refused connection without internal detail', async () => {
    const closed = http.createServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await refusedWith(
      safeFetch(`http://127.0.0.1:${port}/`, { maxBytes: 10, timeoutMs: 3000, allowHosts: [`127.0.0.1:${port}`] }),
      'connection_failed',
    );
    expect(error.message).toBe('Could not connect to the server.');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = safeFetch(at('/hang'), allowed({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    await refusedWith(pending, 'aborted');
  });
});

describe('fetchUserFile (a URL a user gave, e.g. a reference image)', () => {
  const rules = () => ({ maxBytes: 1024, timeoutMs: 3000, allowHosts: [`127.0.0.1:${originPort}`] });

  it('returns the body and its media type, after a redirect', async () => {
    expect(await fetchUserFile(redirectTo(at('/ok')), rules())).toEqual({ ok: true, body: Buffer.from('hello'), contentType: 'text/plain' });
  });

  it('tells a body over the limit apart from every other failure, and never throws', async () => {
    expect(await fetchUserFile(at('/big-chunked'), rules())).toEqual({ ok: false, tooLarge: true, detail: 'too large' });
    expect(await fetchUserFile(at('/missing'), rules())).toEqual({ ok: false, tooLarge: false, detail: 'answered HTTP 404' });
    expect(await fetchUserFile(`http://127.0.0.1:${forbiddenPort}/`, rules())).toEqual({ ok: false, tooLarge: false, detail: 'fetch refused or failed: port_not_allowed' });
    expect(await fetchUserFile(redirectTo(`http://127.0.0.1:${forbiddenPort}/`), rules())).toMatchObject({ ok: false, tooLarge: false });
    expect(forbiddenHits).toBe(0);
  });
});
