import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress, type AddressClass } from './classify-address';
import { isBlockedHostname } from './blocked-hostnames';
import { UnsafeUrlError, type UnsafeUrlReason } from './unsafe-url-error';
import { userHostResolver } from './dns-resolver';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has; replaceable in tests. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface CheckUrlOptions {
  /** Ports a URL may name (default 80, 443, 8080, 8443), or `'any'`. */
  allowedPorts?: readonly number[] | 'any';
  /**
   * Dev/test escape hatch: exact `host:port` strings (e.g. `127.0.0.1:4010`, `localhost:8080`,
   * `[::1]:9000`; the port is always written, even 80/443) that skip the address, name and port
   * checks. Callers read it from configuration such as `OUTBOUND_ALLOW_HOSTS`; leave it empty in
   * production.
   */
  allowHosts?: readonly string[];
  /**
   * Host name resolver. By default a name a user chose is asked of DNS directly (`userHostResolver`,
   * never the thread pool), and an allow-listed one, which the operator chose, through
   * `dns.lookup` (so /etc/hosts and the search list apply, e.g. a compose service name).
   */
  resolver?: HostResolver;
}

export interface CheckedUrl {
  /** The normalized URL (WHATWG parsing turns `0x7f.1` into `127.0.0.1`, etc.). */
  url: URL;
  /** The first validated address: connect here, never re-resolve. */
  address: string;
  family: 4 | 6;
  /** Every validated address, in resolver order (for happy-eyeballs connection attempts). */
  addresses: readonly ResolvedAddress[];
}

export const DEFAULT_ALLOWED_PORTS: readonly number[] = [80, 443, 8080, 8443];

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Where the URL came from: the user's own input, or a server's redirect (whose target we never echo). */
export type UrlOrigin = 'input' | 'redirect';

export const systemResolver: HostResolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

function shown(host: string): string {
  return host.length > 100 ? `${host.slice(0, 100)}…` : host;
}

/** Builds the error with a user-safe message; internal to the lib (not exported from the index). */
export function refuse(
  reason: UnsafeUrlReason,
  origin: UrlOrigin,
  host = '',
  addressClass?: Exclude<AddressClass, 'public'>,
): UnsafeUrlError {
  const fromRedirect: Record<UnsafeUrlReason, string> = {
    invalid_url: 'The server redirected to an invalid address.',
    scheme_not_allowed: 'The server redirected to a URL that is not http or https.',
    credentials_in_url: 'The server redirected to a URL containing a user name or password.',
    port_not_allowed: 'The server redirected to a port that is not allowed.',
    blocked_hostname: 'The server redirected to a host that is not allowed.',
    private_address: 'The server redirected to a private or reserved network address, which is not allowed.',
    resolution_failed: 'The server redirected to a host that could not be found.',
    invalid_redirect: 'The server sent an invalid redirect.',
    too_many_redirects: 'The server redirected too many times.',
    too_large: 'The response is too large.',
    timeout: 'The server took too long to respond.',
    connection_failed: 'Could not connect to the server.',
    aborted: 'The request was cancelled.',
  };
  const fromInput: Partial<Record<UnsafeUrlReason, string>> = {
    invalid_url: 'That is not a valid web address.',
    scheme_not_allowed: 'Only http and https URLs are allowed.',
    credentials_in_url: 'URLs must not contain a user name or password.',
    port_not_allowed: `Port ${host} is not allowed; use a standard web port such as 443.`,
    blocked_hostname: `The host "${shown(host)}" is not allowed.`,
    private_address: `The host "${shown(host)}" is a private or reserved network address, which is not allowed.`,
    resolution_failed: `The host "${shown(host)}" could not be found.`,
  };
  return new UnsafeUrlError(reason, (origin === 'input' && fromInput[reason]) || fromRedirect[reason], addressClass);
}

/**
 * Checks that a URL is safe to fetch from the server: http(s) only, no credentials, an allowed
 * port, and a host whose every resolved address is public. Resolves to the address to connect to.
 */
export async function checkUrl(input: string | URL, opts: CheckUrlOptions = {}): Promise<CheckedUrl> {
  return checkUrlFrom(input, opts, 'input');
}

/**
 * What can be refused about a URL without a DNS lookup: its scheme, credentials, port, a blocked
 * host name, and a literal address that is not public (the WHATWG parser has already turned
 * decimal, octal and hex forms into dotted ones). Null when the URL passes. A name that resolves
 * to a private address passes here; `checkUrl` catches it, and must still be used to fetch.
 */
export function refusedWithoutLookup(input: string | URL, opts: CheckUrlOptions = {}): UnsafeUrlError | null {
  const verdict = staticVerdict(input, opts);
  return verdict instanceof UnsafeUrlError ? verdict : null;
}

/**
 * For a URL kept now and fetched later (a webhook): {@link refusedWithoutLookup}, then the name
 * resolved once, refused when any of its addresses is not public. A name that cannot be resolved
 * within `lookupTimeoutMs` passes (DNS may be down for a moment, or the name not published yet):
 * the fetch itself checks every address again.
 */
export async function refusedWithLookup(input: string | URL, opts: CheckUrlOptions & { lookupTimeoutMs: number }): Promise<UnsafeUrlError | null> {
  const verdict = staticVerdict(input, opts);
  if (verdict instanceof UnsafeUrlError || verdict === null) return verdict;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('lookup timed out')), opts.lookupTimeoutMs)));
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await Promise.race([(opts.resolver ?? userHostResolver)(verdict.name), deadline]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
  return refusedAddress(addresses, 'input', verdict.name);
}

/** The refusal for the first address that is not public, or null. */
function refusedAddress(addresses: readonly ResolvedAddress[], origin: UrlOrigin, host: string): UnsafeUrlError | null {
  for (const { address } of addresses) {
    const cls = classifyAddress(address);
    if (cls !== 'public') return refuse('private_address', origin, host, cls);
  }
  return null;
}

/** A refusal, null when nothing is left to check, or the host name whose addresses are. */
function staticVerdict(input: string | URL, opts: CheckUrlOptions): UnsafeUrlError | null | { name: string } {
  const parsed = parseAndCheckStatically(input, opts, 'input');
  if (parsed instanceof UnsafeUrlError) return parsed;
  if (parsed.allowAll) return null;
  if (isIP(parsed.bare) === 0) return { name: parsed.bare };
  const cls = classifyAddress(parsed.bare);
  return cls === 'public' ? null : refuse('private_address', 'input', parsed.bare, cls);
}

interface StaticallyChecked {
  url: URL;
  bare: string;
  allowAll: boolean;
}

function parseAndCheckStatically(input: string | URL, opts: CheckUrlOptions, origin: UrlOrigin): StaticallyChecked | UnsafeUrlError {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return refuse('invalid_url', origin);
  }
  if (!(url.protocol in DEFAULT_PORTS)) return refuse('scheme_not_allowed', origin);
  if (url.username !== '' || url.password !== '') return refuse('credentials_in_url', origin);

  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  const hostname = url.hostname.toLowerCase();
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const allowAll = (opts.allowHosts ?? []).some((entry) => entry.trim().toLowerCase() === `${hostname}:${port}`);

  if (!allowAll) {
    const ports = opts.allowedPorts ?? DEFAULT_ALLOWED_PORTS;
    if (ports !== 'any' && !ports.includes(port)) return refuse('port_not_allowed', origin, String(port));
    if (isIP(bare) === 0 && isBlockedHostname(bare)) return refuse('blocked_hostname', origin, bare);
    // `localhost` and its subdomains are loopback by definition (RFC 6761 §6.3), whatever a resolver says.
    const name = bare.replace(/\.+$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return refuse('private_address', origin, bare, 'loopback');
  }
  return { url, bare, allowAll };
}

/** {@link checkUrl} with a choice of message wording for redirect hops. */
export async function checkUrlFrom(input: string | URL, opts: CheckUrlOptions, origin: UrlOrigin): Promise<CheckedUrl> {
  const parsed = parseAndCheckStatically(input, opts, origin);
  if (parsed instanceof UnsafeUrlError) throw parsed;
  const { url, bare, allowAll } = parsed;

  let addresses: readonly ResolvedAddress[];
  const literal = isIP(bare);
  if (literal !== 0) {
    addresses = [{ address: bare, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolver ?? (allowAll ? systemResolver : userHostResolver))(bare);
    } catch {
      throw refuse('resolution_failed', origin, bare);
    }
    if (addresses.length === 0) throw refuse('resolution_failed', origin, bare);
  }

  const refused = allowAll ? null : refusedAddress(addresses, origin, bare);
  if (refused) throw refused;

  return { url, address: addresses[0].address, family: addresses[0].family, addresses };
}
