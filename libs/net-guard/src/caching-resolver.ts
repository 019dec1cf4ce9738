import type { HostResolver, ResolvedAddress } from './check-url';

/**
 * Remembers each name's addresses for `ttlMs`, at most `maxNames` names (the oldest goes first), so
 * that a check at submit does not resolve the same webhook host again for every job. A failed
 * lookup is not remembered. Only for checks: a fetch resolves afresh (`safeFetch`).
 */
export function cachingResolver(resolver: HostResolver, ttlMs: number, maxNames = 1000, now: () => number = Date.now): HostResolver {
  const cache = new Map<string, { at: number; addresses: readonly ResolvedAddress[] }>();
  return async (hostname) => {
    const hit = cache.get(hostname);
    if (hit && now() - hit.at < ttlMs) return hit.addresses;
    const addresses = await resolver(hostname);
    cache.delete(hostname);
    if (cache.size >= maxNames) cache.delete(cache.keys().next().value!);
    cache.set(hostname, { at: now(), addresses });
    return addresses;
  };
}
