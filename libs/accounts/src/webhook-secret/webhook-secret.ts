import { createHmac } from 'node:crypto';

/**
 * A user's webhook signing secret (Standard Webhooks `whsec_<base64 key>`), derived from the
 * operator's master secret so the gateway (which shows it) and notification (which signs with it)
 * agree without storing it. Rotating WEBHOOK_MASTER_SECRET rotates every user's secret.
 */
export function webhookSecretFor(masterSecret: string, userId: string): string {
  return `whsec_${createHmac('sha256', masterSecret).update(`webhook:${userId}`).digest('base64')}`;
}

/** The HMAC key inside a `whsec_` secret. */
export function webhookSigningKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}
