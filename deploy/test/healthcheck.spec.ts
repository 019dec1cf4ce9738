import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO } from './support/services';

const SCRIPT = join(REPO, 'deploy/docker/healthcheck.mjs');

/** Runs the container probe script and resolves with its exit code. */
function probe(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err) => {
      resolve(err ? Number((err as { code?: number }).code ?? 1) : 0);
    });
  });
}

describe('deploy/docker/healthcheck.mjs (the image HEALTHCHECK)', () => {
  let server: Server;
  let port: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.statusCode = req.url === '/health/live' || req.url === '/_sim/health' ? 200 : 503;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = String((server.address() as AddressInfo).port);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('exits 0 when the path answers 2xx, defaulting to /health/live', async () => {
    expect(await probe([], { HEALTH_PORT: port })).toBe(0);
    expect(seen.at(-1)).toBe('/health/live');
  });

  it('takes the path from its argument, then HEALTH_PATH', async () => {
    expect(await probe(['/_sim/health'], { HEALTH_PORT: port, HEALTH_PATH: '/health/ready' })).toBe(0);
    expect(seen.at(-1)).toBe('/_sim/health');
    expect(await probe([], { HEALTH_PORT: port, HEALTH_PATH: '/health/ready' })).toBe(1);
    expect(seen.at(-1)).toBe('/health/ready');
  });

  it('exits 1 on a non-2xx answer or when nothing listens', async () => {
    expect(await probe(['/health/ready'], { HEALTH_PORT: port })).toBe(1);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = String((closed.address() as AddressInfo).port);
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probe([], { HEALTH_PORT: freePort })).toBe(1);
  });

  it('exits 2 when misconfigured', async () => {
    expect(await probe([], {})).toBe(2);
    expect(await probe(['health/live'], { HEALTH_PORT: port })).toBe(2);
  });
});
