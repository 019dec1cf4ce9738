import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a receiver's code checks, written from the Standard Webhooks spec rather than taken from
 * reelay: whether any `v1,` signature in the headers is the HMAC of "id.timestamp.body" under `secret`.
 */
export function signedWith(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
  return String(headers['webhook-signature'] ?? '').split(' ').includes(`v1,${expected}`);
}
