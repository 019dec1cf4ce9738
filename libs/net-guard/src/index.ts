export * from './classify-address';
export * from './unsafe-url-error';
export {
  checkUrl,
  refusedWithoutLookup,
  systemResolver,
  DEFAULT_ALLOWED_PORTS,
  type CheckUrlOptions,
  type CheckedUrl,
  type HostResolver,
  type ResolvedAddress,
} from './check-url';
export * from './safe-fetch';
export { isBlockedHostname } from './blocked-hostnames';
