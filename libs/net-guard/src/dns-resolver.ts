import { Resolver } from 'node:dns/promises';
import type { HostResolver, ResolvedAddress } from './check-url';

export interface DnsResolverOptions {
  /** How long one query waits for a server's answer before trying again (default 2,000). */
  timeoutMs?: number;
  /** Tries per server before the lookup fails (default 2). */
  tries?: number;
  /** `host[:port]` of the DNS servers to ask; the system's (resolv.conf) by default. */
  servers?: readonly string[];
}

/**
 * Resolves a name by asking DNS servers directly (A and AAAA at once, on sockets of the event loop)
 * instead of through the system's getaddrinfo, which `dns.lookup` runs on libuv's thread pool (4
 * threads by default) and which no deadline can stop. The names of webhook and reference-image URLs
 * are chosen by users: a name whose DNS server never answers would hold a pool thread per lookup
 * until getaddrinfo gives up, and four of those stall every lookup, file operation and new database
 * connection of the process, for every user. These queries give up after about
 * `timeoutMs` × (1 + 2 + … + tries), holding no thread meanwhile.
 * /etc/hosts and resolv.conf's search list are not used: a user's URL names a public host.
 */
export function dnsResolver(opts: DnsResolverOptions = {}): HostResolver {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 2_000, tries: opts.tries ?? 2 });
  if (opts.servers) resolver.setServers([...opts.servers]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses: ResolvedAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (addresses.length > 0) return addresses;
    throw v4.status === 'rejected' ? v4.reason : new Error(`${hostname} has no address`);
  };
}

/** The resolver for names users choose (see {@link dnsResolver}): the system's DNS servers. */
export const userHostResolver: HostResolver = dnsResolver();
