import { createHmac } from 'node:crypto';

/**
 * A user's webhook signing secret (Standard Webhooks `whsec_<base64 key>`), derived from the
 * operator's master secret and the user's rotation count (`generation`), so nothing secret is
 * stored. Rotating WEBHOOK_MASTER_SECRET rotates every user's secret; a user's own rotation bumps
 * the generation (0, never rotated, keeps the secrets of releases before rotations).
 */
export function webhookSecretFor(masterSecret: string, userId: string, generation = 0): string {
  // The generation comes first (digits up to the first colon), so no user id can make another's input.
  const input = generation === 0 ? `webhook:${userId}` : `webhook/${generation}:${userId}`;
  return `whsec_${createHmac('sha256', masterSecret).update(input).digest('base64')}`;
}

/** The HMAC key inside a `whsec_` secret. */
export function webhookSigningKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}
