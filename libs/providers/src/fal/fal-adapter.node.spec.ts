import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FalAdapter } from './fal-adapter';
import { falFactory } from './fal-factory';

/** A fal queue that answers a request's status with `word` and its result with a 422 error body. */
async function falAnswering(word: string): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if ((req.url ?? '').includes('/status')) res.end(JSON.stringify({ status: word, request_id: 'req-1' }));
    else res.writeHead(422).end(JSON.stringify({ detail: 'the app raised an error' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, close: () => new Promise((r) => server.close(() => r()).closeAllConnections()) };
}

describe('FalAdapter status words beyond the SDK types', () => {
  const TASK = 'fal-ai/kling-video/requests/req-1';

  it('given FAILED, then the check reads the result and reports the failure (not running until the deadline)', async () => {
    const fal = await falAnswering('FAILED');
    try {
      const result = await new FalAdapter({ apiKey: 'k', baseUrl: fal.url }).check(TASK);
      expect(result).toMatchObject({ state: 'failed', providerStatus: 'FAILED', error: { kind: 'invalid_request' } });
      expect(fal.paths.some((p) => p.endsWith('/requests/req-1'))).toBe(true);
    } finally {
      await fal.close();
    }
  });

  it.each(['CANCELED', 'CANCELLED'])('given %s, then the check reports the request canceled', async (word) => {
    const fal = await falAnswering(word);
    try {
      expect(await new FalAdapter({ apiKey: 'k', baseUrl: fal.url }).check(TASK)).toEqual({ state: 'canceled', providerStatus: word });
    } finally {
      await fal.close();
    }
  });
});

describe('falFactory webhook keys', () => {
  const jwksOf = (env: Record<string, string>) => (falFactory.create({ apiKey: env.FAL_API_KEY ?? 'sim-key' }, env) as unknown as { config: { jwksUrl?: string } }).config.jwksUrl;

  it('verifies webhooks with the simulator\'s keys only when the adapter talks to the simulator', () => {
    expect(jwksOf({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010' })).toBe('http://127.0.0.1:4010/fal/.well-known/jwks.json');
    // A real key beside a simulator: fal's own keys (the default), or forged callbacks would pass and real ones fail.
    expect(jwksOf({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010', FAL_API_KEY: 'fal-real' })).toBeUndefined();
    expect(jwksOf({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010', FAL_BASE_URL: 'https://queue.fal.run' })).toBeUndefined();
  });
});
