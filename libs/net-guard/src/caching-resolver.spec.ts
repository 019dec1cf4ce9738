import { cachingResolver } from './caching-resolver';
import type { HostResolver } from './check-url';

describe('cachingResolver', () => {
  let clock = 0;
  const calls: string[] = [];
  const base: HostResolver = async (host) => {
    calls.push(host);
    if (host.startsWith('bad')) throw new Error('ENOTFOUND');
    return [{ address: '93.184.216.34', family: 4 }];
  };
  beforeEach(() => {
    clock = 0;
    calls.length = 0;
  });

  it('answers a name from memory until its time is up', async () => {
    const resolve = cachingResolver(base, 1000, 10, () => clock);
    await resolve('a.example');
    clock = 999;
    await resolve('a.example');
    expect(calls).toEqual(['a.example']);
    clock = 1000;
    await resolve('a.example');
    expect(calls).toEqual(['a.example', 'a.example']);
  });

  it('does not remember a failure, and forgets the oldest name past its size', async () => {
    const resolve = cachingResolver(base, 1000, 2, () => clock);
    await expect(resolve('bad.example')).rejects.toThrow('ENOTFOUND');
    await expect(resolve('bad.example')).rejects.toThrow('ENOTFOUND');
    for (const host of ['a.example', 'b.example', 'c.example', 'b.example', 'a.example']) await resolve(host);
    expect(calls).toEqual(['bad.example', 'bad.example', 'a.example', 'b.example', 'c.example', 'a.example']);
  });
});
