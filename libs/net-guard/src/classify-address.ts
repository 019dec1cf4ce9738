import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is not reachable from a user-supplied URL. */
export type AddressRestriction =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link_local'
  | 'cloud_metadata'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

export type AddressClass = 'public' | AddressRestriction;

type V4Range = readonly [base: string, prefix: number, restriction: AddressRestriction];

// First match wins, so the narrow metadata and broadcast entries precede their enclosing blocks.
const V4_RANGES: readonly V4Range[] = [
  ['169.254.169.254', 32, 'cloud_metadata'], // AWS, GCP, Azure, OpenStack, Oracle (v2) instance metadata
  ['169.254.170.2', 32, 'cloud_metadata'], // AWS ECS task metadata
  ['100.100.100.200', 32, 'cloud_metadata'], // Alibaba Cloud metadata
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments (includes Oracle's 192.0.0.192 metadata)
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

const V4_TABLE = V4_RANGES.map(([base, prefix, restriction]) => ({ base: v4ToInt(base), prefix, restriction }));

function classifyV4Int(value: number): AddressClass {
  for (const { base, prefix, restriction } of V4_TABLE) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(value / size) === Math.floor(base / size)) return restriction;
  }
  return 'public';
}

/** Parses any valid IPv6 text (including a dotted IPv4 tail and a %zone) into a 128-bit integer. */
function v6ToBigInt(ip: string): bigint {
  let text = ip.split('%')[0];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = v4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? [] : new Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return [...headGroups, ...fill, ...restGroups].reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

type V6Rule = { base: bigint; prefix: number; result: AddressRestriction | 'embedded_v4_low' | 'embedded_v4_6to4' | 'public' };

function v6Rule(base: string, prefix: number, result: V6Rule['result']): V6Rule {
  return { base: v6ToBigInt(base), prefix, result };
}

// Everything outside 2000::/3 (global unicast) is refused as reserved; the list names the rest.
const V6_RULES: readonly V6Rule[] = [
  v6Rule('::', 128, 'unspecified'),
  v6Rule('::1', 128, 'loopback'),
  v6Rule('::ffff:0:0', 96, 'embedded_v4_low'), // IPv4-mapped
  v6Rule('::ffff:0:0:0', 96, 'embedded_v4_low'), // IPv4-translated (RFC 2765)
  v6Rule('::', 96, 'embedded_v4_low'), // IPv4-compatible (deprecated)
  v6Rule('64:ff9b::', 96, 'embedded_v4_low'), // NAT64 well-known prefix: reaches the embedded IPv4
  v6Rule('64:ff9b:1::', 48, 'reserved'), // local-use NAT64 (RFC 8215)
  v6Rule('100::', 64, 'reserved'), // discard-only
  v6Rule('fd00:ec2::254', 128, 'cloud_metadata'), // AWS instance metadata over IPv6
  v6Rule('fc00::', 7, 'private'), // unique local
  v6Rule('fe80::', 10, 'link_local'),
  v6Rule('fec0::', 10, 'private'), // deprecated site-local
  v6Rule('ff00::', 8, 'multicast'),
  v6Rule('2001:db8::', 32, 'documentation'),
  v6Rule('3fff::', 20, 'documentation'), // RFC 9637
  v6Rule('2001:2::', 48, 'benchmarking'),
  v6Rule('2001:10::', 28, 'reserved'), // ORCHID
  v6Rule('2001:20::', 28, 'reserved'), // ORCHIDv2
  v6Rule('2001::', 32, 'reserved'), // Teredo tunnels to an (obfuscated) IPv4 address
  v6Rule('2002::', 16, 'embedded_v4_6to4'), // 6to4 reaches the IPv4 in bits 16..48
  v6Rule('2000::', 3, 'public'),
];

function classifyV6(ip: string): AddressClass {
  const value = v6ToBigInt(ip);
  for (const { base, prefix, result } of V6_RULES) {
    const shift = BigInt(128 - prefix);
    if (value >> shift !== base >> shift) continue;
    if (result === 'embedded_v4_low') return classifyV4Int(Number(value & 0xffffffffn));
    if (result === 'embedded_v4_6to4') return classifyV4Int(Number((value >> 80n) & 0xffffffffn));
    return result;
  }
  return 'reserved';
}

/**
 * Classifies an IP address (dotted IPv4 or any IPv6 text, brackets allowed) as `'public'` or
 * the reason it must not be fetched. Anything that is not an IP address is `'invalid'`.
 */
export function classifyAddress(ip: string): AddressClass {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(text)) return classifyV4Int(v4ToInt(text));
  if (isIPv6(text)) return classifyV6(text);
  return 'invalid';
}
