import { loadGatewayConfig } from './gateway-config';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', NATS_URL: 'nats://127.0.0.1:4222' };
const trustProxy = (value?: string) => loadGatewayConfig({ ...base, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).TRUST_PROXY;

describe('TRUST_PROXY', () => {
  it('is off unless set, and reads booleans, hop counts and address lists as Express takes them', () => {
    expect(trustProxy()).toBe(false);
    expect(trustProxy('')).toBe(false);
    expect(trustProxy('false')).toBe(false);
    expect(trustProxy('true')).toBe(true);
    expect(trustProxy('2')).toBe(2);
    expect(trustProxy('loopback, uniquelocal')).toBe('loopback, uniquelocal');
    expect(trustProxy('10.0.0.0/8,fd00::/8')).toBe('10.0.0.0/8,fd00::/8');
  });

  it('refuses a value that is none of those, naming the variable', () => {
    expect(() => trustProxy('10.0.0.1; rm -rf')).toThrow(/TRUST_PROXY/);
  });
});
