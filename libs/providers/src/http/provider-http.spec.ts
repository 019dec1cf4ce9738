import { ProviderHttp } from './provider-http';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('ProviderHttp deadlines', () => {
  it('given a call that answered, when it is done, then its deadline timer is gone (nothing is held until it would fire)', async () => {
    const http = new ProviderHttp({
      provider: 'test',
      baseUrl: 'http://provider.invalid',
      headers: {},
      timeoutMs: 60_000,
      fetch: async () => new Response(JSON.stringify({ ok: true }), { status: 200, headers: { 'content-type': 'application/json' } }),
    });
    const before = timers();
    for (let i = 0; i < 20; i++) await http.request({ method: 'GET', path: '/tasks/1' });
    expect(timers()).toBe(before);
  });

  it('given a provider that never answers, when the deadline passes, then the call fails as a timeout', async () => {
    const http = new ProviderHttp({
      provider: 'test',
      baseUrl: 'http://provider.invalid',
      headers: {},
      timeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))),
    });
    await expect(http.request({ method: 'GET', path: '/tasks/1' })).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('ProviderHttp error details', () => {
  it('takes our key out of an error body before bounding it: no part of a key the provider echoed at the cut is left', async () => {
    const key = 'key_0123456789abcdefghijklmnopqrstuvwxyz';
    // The key starts just before where a 300-character excerpt used to end.
    const body = JSON.stringify({ error: `${'x'.repeat(270)} you sent ${key}` });
    const http = new ProviderHttp({
      provider: 'test',
      baseUrl: 'http://provider.invalid',
      headers: {},
      timeoutMs: 5_000,
      secrets: [key],
      fetch: async () => new Response(body, { status: 400, headers: { 'content-type': 'application/json' } }),
    });
    const err = (await http.request({ method: 'POST', path: '/tasks' }).catch((e: unknown) => e)) as { detail: string };
    expect(err.detail).not.toContain(key.slice(0, 8));
    expect(err.detail.length).toBeLessThanOrEqual(601);
  });
});
