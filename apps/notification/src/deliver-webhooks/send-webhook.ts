import { isUnsafeUrlError, safeFetch, type HostResolver, type UnsafeUrlReason } from '@reelay/net-guard';
import { signStandardWebhook } from '@reelay/providers';
import type { AttemptResult } from './attempt-result';
import type { ClaimedDelivery } from './webhook-delivery-store';

export interface WebhookSenderOptions {
  /** The secrets a webhook of the user is signed under now: one, or during a rotation the one before too (WebhookSecrets). */
  secrets: (userId: string) => Promise<readonly string[]>;
  timeoutMs: number;
  /** host:port pairs the SSRF guard lets through (dev and tests only). */
  allowHosts: string[];
  now?: () => Date;
  /** Resolves the receiver's host at each attempt (tests replace it); net-guard's userHostResolver (DNS asked directly) by default. */
  resolver?: HostResolver;
}

/**
 * The address itself is refused: no retry will change that. A redirect is not followed (a POST
 * redirected becomes a GET, and the next hop is another address to trust), and the receiver that
 * answers with one will answer with it again.
 */
const PERMANENT: ReadonlySet<UnsafeUrlReason> = new Set([
  'too_many_redirects',
  'invalid_url',
  'scheme_not_allowed',
  'credentials_in_url',
  'port_not_allowed',
  'blocked_hostname',
  'private_address',
]);

/** Why an attempt was refused, in words that say whose move it is: a redirect is the receiver's answer, not an address reelay will not call. */
const refusal = (reason: UnsafeUrlReason) =>
  reason === 'too_many_redirects' ? 'refused: too_many_redirects (the receiver answered with a redirect, which is not followed: give its final URL)' : `refused: ${reason}`;

/** Room left in a lease, past the send's timeout, for the answer to be handled before it ends. */
const LEASE_MARGIN_MS = 500;

/** Stable per job and version, so a receiver can drop a repeated delivery. */
export const webhookId = (jobId: string, version: number) => `msg_${jobId}_v${version}`;

/**
 * Standard Webhooks headers for one attempt, signed with the user's derived secret, or with each of
 * several (a rotation): the header then lists one `v1,` signature per secret, space-separated, and a
 * receiver accepts the delivery when any of them verifies with its secret.
 */
export function webhookHeaders(secrets: readonly string[], id: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'reelay-webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => `v1,${signStandardWebhook(secret, id, timestamp, body)}`).join(' '),
  };
}

/**
 * One POST of a delivery through the SSRF guard (no redirects followed); never throws. The answer's
 * status decides: a 2xx is delivered whatever body follows it (large, slow or none).
 */
export async function sendWebhook(delivery: ClaimedDelivery, opts: WebhookSenderOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let secrets: readonly string[];
  try {
    secrets = await opts.secrets(delivery.userId);
  } catch {
    // Nothing was sent: the attempt fails as one that can be tried again (the database back).
    return { outcome: 'network_error', httpStatus: null, error: 'not sent: the signing secret could not be read', durationMs: elapsed(), permanent: false, notSent: true };
  }
  // See "Per-job order" in webhook-delivery-store: never a POST that could outlast the lease.
  if (delivery.leaseEndsBy !== undefined && performance.now() + opts.timeoutMs + LEASE_MARGIN_MS > delivery.leaseEndsBy) {
    return { outcome: 'network_error', httpStatus: null, error: 'not sent: reelay took too long to prepare it (its turn would have run out)', durationMs: elapsed(), permanent: false, notSent: true };
  }
  const headers = webhookHeaders(secrets, webhookId(delivery.jobId, delivery.version), delivery.body, opts.now?.() ?? new Date());
  try {
    const res = await safeFetch(delivery.url, {
      method: 'POST',
      headers,
      body: delivery.body,
      maxBytes: 0, // no body is read (statusOnly)
      timeoutMs: opts.timeoutMs,
      maxRedirects: 0,
      statusOnly: true,
      allowHosts: opts.allowHosts,
      resolver: opts.resolver,
    });
    // A 3xx that safeFetch did not take as a redirect (no Location, or 300/304/305) fails as one:
    // the answer will not change, and the job's later webhooks wait behind this delivery.
    if (res.status >= 300 && res.status < 400) {
      return { outcome: 'refused', httpStatus: res.status, error: `refused: HTTP ${res.status} (redirects are not followed)`, durationMs: elapsed(), permanent: true };
    }
    const ok = res.status >= 200 && res.status < 300;
    return { outcome: ok ? 'delivered' : 'http_error', httpStatus: res.status, error: ok ? null : `HTTP ${res.status}`, durationMs: elapsed(), permanent: false };
  } catch (err) {
    if (isUnsafeUrlError(err)) {
      if (PERMANENT.has(err.reason)) return { outcome: 'refused', httpStatus: err.httpStatus ?? null, error: refusal(err.reason), durationMs: elapsed(), permanent: true };
      const outcome = err.reason === 'timeout' ? 'timeout' : 'network_error';
      return { outcome, httpStatus: null, error: err.reason, durationMs: elapsed(), permanent: false };
    }
    return { outcome: 'network_error', httpStatus: null, error: (err as Error).name || 'error', durationMs: elapsed(), permanent: false };
  }
}
