import { createHmac } from 'node:crypto';

/**
 * The user's Standard Webhooks signing secret, derived (not stored): `whsec_` + base64 of
 * HMAC-SHA256(master secret, user id). The gateway shows the same value at GET /v1/webhooks/secret;
 * the signing key is the base64-decoded part after `whsec_`.
 */
export function deriveWebhookSecret(masterSecret: string, userId: string): string {
  return `whsec_${createHmac('sha256', masterSecret).update(userId, 'utf8').digest('base64')}`;
}
