export * from './classify-address';
export * from './unsafe-url-error';
export {
  checkUrl,
  refusedWithoutLookup,
  refusedWithLookup,
  systemResolver,
  DEFAULT_ALLOWED_PORTS,
  type CheckUrlOptions,
  type CheckedUrl,
  type HostResolver,
  type ResolvedAddress,
} from './check-url';
export * from './safe-fetch';
export { isBlockedHostname } from './blocked-hostnames';
export * from './fetch-user-file';
export { cachingResolver } from './caching-resolver';
export { dnsResolver, userHostResolver, type DnsResolverOptions } from './dns-resolver';
