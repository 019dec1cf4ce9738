import { checkUrl, refusedWithLookup, refusedWithoutLookup, type HostResolver, type ResolvedAddress } from './check-url';
import { UnsafeUrlError, type UnsafeUrlReason } from './unsafe-url-error';

function resolverFor(table: Record<string, ResolvedAddress[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return Object.assign(resolver, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<UnsafeUrlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeUrlError);
  return error as UnsafeUrlError;
}

const publicResolver = resolverFor({
  'images.example.com': [{ address: '93.184.216.34', family: 4 }],
  'dual.example.com': [
    { address: '2606:2800:220:1::248', family: 6 },
    { address: '93.184.216.34', family: 4 },
  ],
  'sneaky.example.com': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.7', family: 4 },
  ],
  'internal.example.test': [{ address: '10.1.2.3', family: 4 }],
  'loop.example.test': [{ address: '127.0.0.1', family: 4 }],
  'v6loop.example.test': [{ address: '::1', family: 6 }],
  'mapped.example.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'metadata.google.internal': [{ address: '93.184.216.34', family: 4 }],
});

describe('checkUrl', () => {
  it('accepts a public https URL and returns the validated address', async () => {
    const checked = await checkUrl('https://images.example.com/cat.png?size=large', { resolver: publicResolver });
    expect(checked.url.href).toBe('https://images.example.com/cat.png?size=large');
    expect(checked).toMatchObject({ address: '93.184.216.34', family: 4 });
  });

  it('returns every address of a host whose addresses are all public', async () => {
    const checked = await checkUrl('http://dual.example.com/', { resolver: publicResolver });
    expect(checked.addresses).toHaveLength(2);
    expect(checked).toMatchObject({ address: '2606:2800:220:1::248', family: 6 });
  });

  it('accepts public IP literals without resolving them', async () => {
    const resolver = resolverFor({});
    await expect(checkUrl('http://8.8.8.8/', { resolver })).resolves.toMatchObject({ address: '8.8.8.8', family: 4 });
    await expect(checkUrl('http://[2606:4700:4700::1111]/', { resolver })).resolves.toMatchObject({
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect(resolver.calls).toEqual([]);
  });

  const refused: Array<[string, UnsafeUrlReason]> = [
    ['not a url', 'invalid_url'],
    ['http://', 'invalid_url'],
    ['http://0x100000000/', 'invalid_url'],
    ['ftp://images.example.com/a.png', 'scheme_not_allowed'],
    ['file:///etc/passwd', 'scheme_not_allowed'],
    ['gopher://images.example.com:70/_x', 'scheme_not_allowed'],
    ['data:image/png;base64,AAAA', 'scheme_not_allowed'],
    ['javascript:alert(1)', 'scheme_not_allowed'],
    ['https://user:secret@images.example.com/', 'credentials_in_url'],
    ['https://user@images.example.com/', 'credentials_in_url'],
    ['http://images.example.com:22/', 'port_not_allowed'],
    ['http://images.example.com:6379/', 'port_not_allowed'],
    // Private, loopback, link-local, CGNAT, multicast and reserved IPv4 literals.
    ['http://127.0.0.1/', 'private_address'],
    ['http://10.0.0.1/', 'private_address'],
    ['http://172.16.5.4/', 'private_address'],
    ['http://192.168.0.10/', 'private_address'],
    ['http://100.64.0.1/', 'private_address'],
    ['http://169.254.10.10/', 'private_address'],
    ['http://0.0.0.0/', 'private_address'],
    ['http://224.0.0.1/', 'private_address'],
    ['http://255.255.255.255/', 'private_address'],
    // Cloud metadata, by address and by name (even when the resolver says it is public).
    ['http://169.254.169.254/latest/meta-data/', 'private_address'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'private_address'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'blocked_hostname'],
    ['http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/', 'blocked_hostname'],
    ['http://metadata/computeMetadata/v1/', 'blocked_hostname'],
    // IPv4 in decimal, octal and hex forms, which WHATWG URL parsing normalizes to dotted quads.
    ['http://2130706433/', 'private_address'],
    ['http://0177.0.0.1/', 'private_address'],
    ['http://0x7f.1/', 'private_address'],
    ['http://0x7f000001/', 'private_address'],
    ['http://017700000001/', 'private_address'],
    ['http://127.1/', 'private_address'],
    ['http://127.0.0.1./', 'private_address'],
    ['http://%31%32%37.0.0.1/', 'private_address'],
    ['http://0xa9fea9fe/', 'private_address'],
    // IPv6 loopback, private, link-local, and IPv4-mapped/compatible forms.
    ['http://[::1]/', 'private_address'],
    ['http://[::]/', 'private_address'],
    ['http://[fc00::1]/', 'private_address'],
    ['http://[fe80::1]/', 'private_address'],
    ['http://[ff02::1]/', 'private_address'],
    ['http://[::ffff:127.0.0.1]/', 'private_address'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 'private_address'],
    ['http://[::ffff:169.254.169.254]/', 'private_address'],
    ['http://[::127.0.0.1]/', 'private_address'],
    ['http://[64:ff9b::10.0.0.1]/', 'private_address'],
    // Names whose answers include a non-public address (any one is enough).
    ['http://internal.example.test/', 'private_address'],
    ['http://sneaky.example.com/', 'private_address'],
    ['http://loop.example.test/', 'private_address'],
    ['http://v6loop.example.test/', 'private_address'],
    ['http://mapped.example.test/', 'private_address'],
    ['http://nowhere.example.test/', 'resolution_failed'],
  ];

  it.each(refused)('refuses %s with %s', async (url, reason) => {
    const error = await refusal(checkUrl(url, { resolver: publicResolver }));
    expect(error.reason).toBe(reason);
  });

  it('normalizes every numeric IPv4 form of 127.0.0.1 to the same host before classifying', () => {
    for (const url of ['http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.1/', 'http://127.1/'])
      expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(new URL('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
  });

  it('records which kind of address was refused, for logs', async () => {
    const metadata = await refusal(checkUrl('http://169.254.169.254/', { resolver: publicResolver }));
    expect(metadata.addressClass).toBe('cloud_metadata');
    const loopback = await refusal(checkUrl('http://[::ffff:7f00:1]/', { resolver: publicResolver }));
    expect(loopback.addressClass).toBe('loopback');
  });

  it('never mentions a resolved address in the message shown to the user', async () => {
    const error = await refusal(checkUrl('http://internal.example.test/x', { resolver: publicResolver }));
    expect(error.message).toBe(
      'The host "internal.example.test" is a private or reserved network address, which is not allowed.',
    );
    expect(error.message).not.toContain('10.1.2.3');
  });

  it('allows other ports when configured', async () => {
    await expect(
      checkUrl('http://images.example.com:9000/', { resolver: publicResolver, allowedPorts: [9000] }),
    ).resolves.toMatchObject({ address: '93.184.216.34' });
    await expect(
      checkUrl('http://images.example.com:6379/', { resolver: publicResolver, allowedPorts: 'any' }),
    ).resolves.toMatchObject({ address: '93.184.216.34' });
    expect((await refusal(checkUrl('http://images.example.com/', { resolver: publicResolver, allowedPorts: [443] }))).reason).toBe(
      'port_not_allowed',
    );
  });

  it('lets exact allowHosts entries through, and nothing else', async () => {
    const opts = { resolver: publicResolver, allowHosts: ['loop.example.test:4010', '127.0.0.1:80'] };
    await expect(checkUrl('http://loop.example.test:4010/hook', opts)).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(checkUrl('http://127.0.0.1/', opts)).resolves.toMatchObject({ address: '127.0.0.1' });
    expect((await refusal(checkUrl('http://loop.example.test:4011/hook', opts))).reason).toBe('port_not_allowed');
    expect((await refusal(checkUrl('http://loop.example.test/hook', opts))).reason).toBe('private_address');
    expect((await refusal(checkUrl('http://127.0.0.2/', opts))).reason).toBe('private_address');
    // allowHosts never relaxes the scheme or credential rules.
    expect((await refusal(checkUrl('http://u:p@127.0.0.1/', opts))).reason).toBe('credentials_in_url');
  });
});

describe('refusedWithoutLookup (what a submit can refuse before anything is fetched)', () => {
  it.each([
    ['http://10.0.0.1/hook', 'private_address'],
    ['http://2130706433/hook', 'private_address'],
    ['http://[::1]/hook', 'private_address'],
    ['http://169.254.169.254/latest', 'private_address'],
    ['http://localhost/hook', 'private_address'],
    ['http://LocalHost./hook', 'private_address'],
    ['http://api.localhost/hook', 'private_address'],
    ['http://metadata.google.internal/', 'blocked_hostname'],
    ['https://hooks.example.com:9000/cb', 'port_not_allowed'],
    ['ftp://hooks.example.com/cb', 'scheme_not_allowed'],
    ['https://user:pw@hooks.example.com/cb', 'credentials_in_url'],
  ])('%s → %s', (url, reason) => {
    expect(refusedWithoutLookup(url)?.reason).toBe(reason);
  });

  it('passes public addresses, names it would have to resolve, and allow-listed hosts', () => {
    expect(refusedWithoutLookup('https://hooks.example.com/cb')).toBeNull();
    expect(refusedWithoutLookup('http://93.184.216.34:8080/cb')).toBeNull();
    expect(refusedWithoutLookup('http://127.0.0.1:4455/hook', { allowHosts: ['127.0.0.1:4455'] })).toBeNull();
  });
});

describe('refusedWithLookup (a URL kept for later, checked once at submit)', () => {
  const resolver = resolverFor({
    'internal.example.com': [{ address: '10.1.2.3', family: 4 }],
    'mixed.example.com': [
      { address: '93.184.216.34', family: 4 },
      { address: '::1', family: 6 },
    ],
    'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
  });
  const check = (url: string, extra: Partial<Parameters<typeof refusedWithLookup>[1]> = {}) => refusedWithLookup(url, { resolver, lookupTimeoutMs: 200, ...extra });

  it('refuses a name when any address it resolves to is not public', async () => {
    expect(await check('https://internal.example.com/hook')).toMatchObject({ reason: 'private_address', message: 'The host "internal.example.com" is a private or reserved network address, which is not allowed.' });
    expect((await check('https://mixed.example.com/hook'))?.reason).toBe('private_address');
  });

  it('refuses without a lookup what refusedWithoutLookup refuses', async () => {
    resolver.calls.length = 0;
    expect((await check('http://localhost/hook'))?.reason).toBe('private_address');
    expect((await check('http://10.0.0.1/hook'))?.reason).toBe('private_address');
    expect((await check('ftp://hooks.example.com/'))?.reason).toBe('scheme_not_allowed');
    expect(resolver.calls).toEqual([]);
  });

  it('passes a public name, an allow-listed host without resolving it, and a name that cannot be resolved now (the delivery checks again)', async () => {
    resolver.calls.length = 0;
    expect(await check('https://hooks.example.com/cb')).toBeNull();
    expect(await check('http://internal.example.com:4455/hook', { allowHosts: ['internal.example.com:4455'] })).toBeNull();
    expect(resolver.calls).toEqual(['hooks.example.com']);
    expect(await check('https://unknown.example.com/cb')).toBeNull();
    const hanging: HostResolver = () => new Promise(() => undefined);
    expect(await check('https://slow.example.com/cb', { resolver: hanging, lookupTimeoutMs: 20 })).toBeNull();
  });
});
