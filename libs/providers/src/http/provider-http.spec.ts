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
