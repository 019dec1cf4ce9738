// Cloud metadata services reachable by name. Their addresses are refused anyway; refusing the
// names too covers resolvers (e.g. inside a VPC) that answer them with something unexpected.
const BLOCKED_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** True when a host name (not an IP literal) must be refused whatever it resolves to. */
export function isBlockedHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return BLOCKED_NAMES.has(name);
}
