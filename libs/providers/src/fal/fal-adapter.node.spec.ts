import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FalAdapter } from './fal-adapter';
import { falFactory } from './fal-factory';
import { falSignedMessage } from './fal-webhook-signature';

/** A fal queue that answers a request's status with `word` and its result with an error (a 422 unless told). */
async function falAnswering(word: string, result = { status: 422, body: { detail: 'the app raised an error' } as unknown }): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if ((req.url ?? '').includes('/status')) res.end(JSON.stringify({ status: word, request_id: 'req-1' }));
    else res.writeHead(result.status).end(JSON.stringify(result.body));
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

  it.each([
    [401, 'auth'],
    [403, 'auth'],
    [402, 'billing'],
  ])('given COMPLETED and a %s on reading the result (our key or account, not the request), then the check fails and is tried again, the job not failed', async (status, kind) => {
    const fal = await falAnswering('COMPLETED', { status, body: { detail: 'Invalid Key Authorization' } });
    try {
      await expect(new FalAdapter({ apiKey: 'k', baseUrl: fal.url }).check(TASK)).rejects.toMatchObject({ kind });
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

describe('FalAdapter webhook keys at callback time', () => {
  /** A JWKS endpoint serving `current()`'s public key, counting downloads. */
  async function jwksServer(current: () => KeyObject): Promise<{ url: string; downloads: () => number; close: () => Promise<void> }> {
    let downloads = 0;
    const server: Server = createServer((_req, res) => {
      downloads++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...current().export({ format: 'jwk' }), kid: 'k' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, downloads: () => downloads, close: () => new Promise((r) => server.close(() => r()).closeAllConnections()) };
  }

  /** A callback as fal signs it, for request `req-1` of app fal-ai/kling-video. */
  function signedCallback(privateKey: KeyObject, nowMs: number) {
    const body = JSON.stringify({ request_id: 'req-1', status: 'OK', payload: {} });
    const headers = { 'x-fal-webhook-request-id': 'req-1', 'x-fal-webhook-user-id': 'u', 'x-fal-webhook-timestamp': String(Math.floor(nowMs / 1000)) };
    const signature = sign(null, falSignedMessage('req-1', 'u', headers['x-fal-webhook-timestamp'], body), privateKey).toString('hex');
    return { headers: { ...headers, 'x-fal-webhook-signature': signature }, body, query: 'fal_app=fal-ai%2Fkling-video' };
  }

  /** Waits for the background key download a callback started (up to 5 s), or lets one that should not start have its chance. */
  const settle = async (until?: () => boolean) => {
    for (const stop = Date.now() + (until ? 5000 : 200); Date.now() < stop && !until?.(); ) await new Promise((r) => setTimeout(r, 20));
  };

  it('after fal rotates its key, a refused callback reloads the keys (at most once a minute), and the next one is verified', async () => {
    const [a, b] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
    let published = a.publicKey;
    const jwks = await jwksServer(() => published);
    let now = Date.now();
    try {
      const fal = new FalAdapter({ apiKey: 'k', jwksUrl: jwks.url, webhooks: true, nowMs: () => now });
      await fal.prepare();
      const withA = signedCallback(a.privateKey, now);
      expect(fal.verifyCallback(withA.headers, withA.body, withA.query)).toEqual({ providerTaskId: 'fal-ai/kling-video/requests/req-1', signed: true });
      expect(jwks.downloads()).toBe(1);

      published = b.publicKey; // rotated
      now += 2 * 60_000;
      const withB = signedCallback(b.privateKey, now);
      expect(fal.verifyCallback(withB.headers, withB.body, withB.query)).toBeNull();
      await settle(() => jwks.downloads() === 2 && fal.verifyCallback(withB.headers, withB.body, withB.query) !== null);
      expect(jwks.downloads()).toBe(2);
      expect(fal.verifyCallback(withB.headers, withB.body, withB.query)).toEqual({ providerTaskId: 'fal-ai/kling-video/requests/req-1', signed: true });

      // Forged callbacks in a burst cost at most one download a minute.
      const forged = signedCallback(generateKeyPairSync('ed25519').privateKey, now);
      for (let i = 0; i < 20; i++) expect(fal.verifyCallback(forged.headers, forged.body, forged.query)).toBeNull();
      await settle();
      expect(jwks.downloads()).toBe(2);
      now += 61_000;
      expect(fal.verifyCallback(forged.headers, forged.body, forged.query)).toBeNull();
      await settle(() => jwks.downloads() === 3);
      expect(jwks.downloads()).toBe(3);
    } finally {
      await jwks.close();
    }
  });

  it('with webhooks off, refuses every callback without downloading keys', async () => {
    const key = generateKeyPairSync('ed25519');
    const jwks = await jwksServer(() => key.publicKey);
    try {
      const fal = new FalAdapter({ apiKey: 'k', jwksUrl: jwks.url });
      await fal.prepare();
      const callback = signedCallback(key.privateKey, Date.now());
      for (let i = 0; i < 3; i++) expect(fal.verifyCallback(callback.headers, callback.body, callback.query)).toBeNull();
      await settle();
      expect(jwks.downloads()).toBe(0);
    } finally {
      await jwks.close();
    }
  });
});
