import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Request } from 'express';
import { ApiException } from '../errors/api-exception';
import { readBody } from './read-body';

const IDLE_MS = 1500;
const TOTAL_MS = 1200;

/** A server whose handler reads the body as the gateway's routes do, with a short idle limit. */
describe('readBody on a real socket', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      readBody(req as Request, 1000, { idleMs: IDLE_MS, totalMs: req.url === '/total' ? TOTAL_MS : undefined }).then(
        (body) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`read ${body.length}`),
        (err: ApiException) => res.writeHead(err.status, { 'content-type': 'application/json', ...err.headers }).end(JSON.stringify({ error: { code: err.code, message: err.message } })),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** Sends the head and then `parts` (bytes, after a pause in ms); resolves with what came back and whether the server closed. */
  function exchange(declared: number, parts: [string, number][], path = '/x'): Promise<{ response: string; closedByServer: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let response = '';
      socket.on('data', (d) => (response += d));
      socket.on('error', reject);
      socket.on('end', () => resolve({ response, closedByServer: true }));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      void (async () => {
        for (const [bytes, pauseMs] of parts) {
          await new Promise((r) => setTimeout(r, pauseMs));
          if (!socket.destroyed) socket.write(bytes);
        }
      })();
      setTimeout(() => {
        socket.destroy();
        resolve({ response, closedByServer: false });
      }, 4000);
    });
  }

  it('refuses a body that stops arriving with a 400 saying so, and closes the connection', async () => {
    const { response, closedByServer } = await exchange(100, [['{"prompt":', 0]]);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('The request body stopped arriving');
    expect(response.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('with a limit on the whole body, refuses one that keeps trickling in past it, and closes the connection', async () => {
    const parts: [string, number][] = Array.from({ length: 8 }, () => ['x'.repeat(5), 250]);
    const { response, closedByServer } = await exchange(40, parts, '/total');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('The request body took too long');
    expect(response.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('reads a slow body that keeps coming, each pause shorter than the limit', async () => {
    // Pauses well under the limit: the client and the server share this process's event loop.
    const parts: [string, number][] = Array.from({ length: 8 }, () => ['x'.repeat(5), 100]);
    const { response } = await exchange(40, parts);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain('read 40');
  });
});
