import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { MAX_JSON_RESPONSE_BYTES } from './node-http-send';
import { ProviderHttp } from './provider-http';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A real HTTP server on a free port; counts the TCP connections clients open to it. */
async function provider(handler: Handler): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, body, res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => new Promise((r) => server.close(() => r()).closeAllConnections()),
  };
}

const client = (baseUrl: string, timeoutMs = 5_000) => new ProviderHttp({ provider: 'test', baseUrl, headers: { authorization: 'Bearer sk-test' }, timeoutMs });

describe('ProviderHttp over Node http (no injected fetch)', () => {
  const servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('given a JSON answer, then status, headers and parsed body come back, and calls reuse one kept-alive connection', async () => {
    const p = await provider((req, _body, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', 'r-1');
      res.end(JSON.stringify({ id: 'task-1', path: req.url, auth: req.headers.authorization }));
    });
    servers.push(p);
    const http = client(p.url);
    const first = await http.request<{ id: string; path: string; auth: string }>({ method: 'GET', path: '/v1/tasks/task-1', query: { a: 'b c' } });
    expect(first).toMatchObject({ status: 200, body: { id: 'task-1', path: '/v1/tasks/task-1?a=b+c', auth: 'Bearer sk-test' } });
    expect(first.headers.get('x-request-id')).toBe('r-1');
    for (let i = 0; i < 5; i++) await http.request({ method: 'GET', path: '/v1/tasks/task-1' });
    expect(p.connections()).toBe(1);
  });

  it('given a JSON body with multi-byte text, then it arrives whole with its content type', async () => {
    let seen: { type?: string; body?: string } = {};
    const p = await provider((req, body, res) => {
      seen = { type: req.headers['content-type'], body };
      res.statusCode = 201;
      res.end('');
    });
    servers.push(p);
    const sent = { prompt: 'a café at dusk — 夕暮れ 🎬' };
    const res = await client(p.url).request({ method: 'POST', path: '/v1/tasks', json: sent });
    expect(res).toMatchObject({ status: 201, body: '' });
    expect(seen.type).toBe('application/json');
    expect(JSON.parse(seen.body!)).toEqual(sent);
  });

  it('given a 429 with Retry-After, then the call fails as rate_limited with the wait', async () => {
    const p = await provider((_req, _body, res) => {
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'slow down' }));
    });
    servers.push(p);
    await expect(client(p.url).request({ method: 'GET', path: '/v1/tasks/1' })).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 7_000 });
  });

  it.each([
    ['POST', 504, true], // a gateway gave up waiting: the provider may have made the task
    ['POST', 502, true], // the origin's answer was lost on the way back
    ['POST', 520, true],
    ['POST', 524, true], // Cloudflare: the origin took the request and never answered
    ['POST', 522, false], // Cloudflare: the origin was never reached
    ['GET', 504, false],
    ['POST', 503, false],
  ])('given a %s answered %i, then maybeDelivered is %s', async (method, status, maybeDelivered) => {
    const p = await provider((_req, _body, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });
    servers.push(p);
    const call = method === 'POST' ? { method: 'POST' as const, path: '/v1/tasks', json: {} } : { method: 'GET' as const, path: '/v1/tasks/1' };
    await expect(client(p.url).request(call)).rejects.toMatchObject({ maybeDelivered });
  });

  it('given a provider that never answers, when the deadline passes, then the call fails as a timeout', async () => {
    const p = await provider(() => undefined);
    servers.push(p);
    await expect(client(p.url, 100).request({ method: 'GET', path: '/v1/tasks/1' })).rejects.toMatchObject({ kind: 'timeout', maybeDelivered: true });
  });

  it('given nothing listening, then the call fails as a retryable server error naming the network failure, without the key', async () => {
    const p = await provider(() => undefined);
    await p.close();
    const err = await client(p.url).request({ method: 'GET', path: '/v1/tasks/1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'server', retryable: true, maybeDelivered: false }); // refused: nothing reached the provider
    expect((err as Error).message).toMatch(/network error: .*ECONNREFUSED/);
    expect((err as Error).message).not.toContain('sk-test');
  });

  it('given an answer larger than the limit, then the call fails instead of buffering it', async () => {
    const p = await provider((_req, _body, res) => {
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      let sent = 0;
      const more = () => {
        while (sent <= MAX_JSON_RESPONSE_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    servers.push(p);
    await expect(client(p.url).request({ method: 'GET', path: '/v1/tasks/1' })).rejects.toMatchObject({ kind: 'server' });
  });

  describe('download', () => {
    it('given an output, then it streams as a Node stream over the kept-alive connection, without the key on a foreign host, and leaves no timer behind', async () => {
      let auth: string | undefined = 'unset';
      let encoding: string | undefined;
      const video = Buffer.alloc(300_000, 7);
      const p = await provider((req, _body, res) => {
        auth = req.headers.authorization;
        encoding = req.headers['accept-encoding'];
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(video.length) });
        res.end(video);
      });
      servers.push(p);
      const http = client(p.url);
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      for (let i = 0; i < 3; i++) {
        const res = await http.download(`${p.url}/files/out.mp4`, {}, false);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('video/mp4');
        expect(res.body).toBeInstanceOf(Readable);
        expect((await buffer(res.body)).equals(video)).toBe(true);
        // 'close' can come a turn after the last byte: the deadline ends on it, not on 'end'.
        if (!res.body.closed) await once(res.body, 'close');
      }
      // A leaked deadline would stay for its 5 s; other timers of the process (sockets going back to
      // their pools on a busy machine) may take a moment to go.
      for (const until = Date.now() + 1_000; timers() > before && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
      // Each download's deadline ended with its body. Fewer than before is fine: a timer the process
      // had at the start (a pooled socket's, an earlier test's) may have ended meanwhile.
      expect(timers()).toBeLessThanOrEqual(before);
      expect(auth).toBeUndefined();
      expect(encoding).toBe('identity'); // the stored bytes, length and hash are the file's, never a compressed form
      expect(p.connections()).toBe(1);
    });

    it('given a redirect to another origin, then it follows it and sends the key only to the first', async () => {
      const video = Buffer.alloc(50_000, 3);
      let storageAuth: string | undefined = 'unset';
      const storageHost = await provider((req, _body, res) => {
        storageAuth = req.headers.authorization;
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.end(video);
      });
      let apiAuth: string | undefined;
      const api = await provider((req, _body, res) => {
        apiAuth = req.headers.authorization;
        res.writeHead(302, { location: `${storageHost.url}/bucket/out.mp4?sig=abc` });
        res.end('moved');
      });
      servers.push(storageHost, api);
      const res = await client(api.url).download(`${api.url}/v1/files/out:download?alt=media`);
      expect(res.status).toBe(200);
      expect((await buffer(res.body)).equals(video)).toBe(true);
      expect(apiAuth).toBe('Bearer sk-test');
      expect(storageAuth).toBeUndefined();
    });

    it('given redirects in a loop, then it stops after a few hops with an error instead of following forever', async () => {
      let hops = 0;
      const p = await provider((req, _body, res) => {
        hops++;
        res.writeHead(307, { location: req.url === '/a' ? '/b' : '/a' });
        res.end();
      });
      servers.push(p);
      await expect(client(p.url).download(`${p.url}/a`)).rejects.toMatchObject({ name: 'ProviderError' });
      expect(hops).toBe(6);
    });

    it('given a 404, then it fails as output_missing with the body read and the key kept out', async () => {
      const p = await provider((_req, _body, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'expired' }));
      });
      servers.push(p);
      const err = await client(p.url).download(`${p.url}/files/gone.mp4`).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'output_missing' });
      expect((err as Error).message).toContain('expired');
      expect((err as Error).message).not.toContain('sk-test');
    });

    it('given a body that stalls past the deadline, then reading it fails as a timeout instead of hanging', async () => {
      const p = await provider((_req, _body, res) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '1000000' });
        res.write(Buffer.alloc(1000));
      });
      servers.push(p);
      const res = await client(p.url).download(`${p.url}/files/slow.mp4`, { timeoutMs: 200 });
      await expect(buffer(res.body)).rejects.toMatchObject({ kind: 'timeout', message: expect.stringContaining('timed out after 200 ms') });
    });
  });
});
