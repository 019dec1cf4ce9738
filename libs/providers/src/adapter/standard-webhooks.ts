import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue, type HeaderBag } from './callback-helpers';

/**
 * Standard Webhooks verification (https://www.standardwebhooks.com), as used by OpenAI and
 * Replicate: HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${rawBody}` keyed with the
 * base64 part of a `whsec_...` secret; `webhook-signature` holds space-separated `v1,<base64>`.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: HeaderBag,
  rawBody: string | Buffer,
  options: { toleranceSeconds?: number; nowMs?: number } = {},
): boolean {
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) return false;
  const expected = signStandardWebhook(secret, id, Number(timestamp), rawBody);
  const want = Buffer.from(expected, 'base64');
  for (const part of signatures.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const got = Buffer.from(sig, 'base64');
    if (got.length === want.length && timingSafeEqual(got, want)) return true;
  }
  return false;
}

/** Returns the base64 signature (without the `v1,` prefix). */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}
