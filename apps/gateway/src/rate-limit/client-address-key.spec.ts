import { clientAddressKey } from './client-address-key';

describe('clientAddressKey', () => {
  it('keeps an IPv4 address, also one mapped into IPv6', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('puts every address of one IPv6 /64 under one key, however it is written', () => {
    const keys = ['2001:db8:85a3:1::1', '2001:0db8:85a3:0001:ffff:ffff:ffff:ffff', '2001:db8:85a3:1:abcd::', '2001:db8:85a3:1::192.0.2.1'].map(clientAddressKey);
    expect(new Set(keys)).toEqual(new Set(['2001:db8:85a3:1::/64']));
    expect(clientAddressKey('2001:db8:85a3:2::1')).toBe('2001:db8:85a3:2::/64');
  });

  it('reads compressed forms and zone ids', () => {
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('leaves anything that is not an address as it is', () => {
    expect(clientAddressKey('unknown')).toBe('unknown');
  });
});
