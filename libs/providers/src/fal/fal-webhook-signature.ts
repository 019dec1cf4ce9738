import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { headerValue, type HeaderBag } from '../adapter/callback-helpers';

export const FAL_DEFAULT_JWKS_URL = 'https://rest.alpha.fal.ai/.well-known/jwks.json';

export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  kid?: string;
}

/** Ed25519 public keys from a JWKS document (other key types are ignored). */
export function ed25519KeysFromJwks(jwks: { keys?: Jwk[] }): KeyObject[] {
  const out: KeyObject[] = [];
  for (const k of jwks.keys ?? []) {
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') continue;
    try {
      out.push(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' }));
    } catch {
      // a malformed key is skipped; the others may still verify
    }
  }
  return out;
}

/** The signed message: `request_id \n user_id \n timestamp \n sha256_hex(raw body)`. */
export function falSignedMessage(requestId: string, userId: string, timestamp: string, rawBody: string | Buffer): Buffer {
  const digest = createHash('sha256').update(rawBody).digest('hex');
  return Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`, 'utf8');
}

/**
 * Verifies fal's webhook headers `X-Fal-Webhook-{Request-Id,User-Id,Timestamp,Signature}`
 * (hex Ed25519) against any of `keys`, within ±`toleranceSeconds` of now.
 */
export function verifyFalWebhook(
  keys: readonly KeyObject[],
  headers: HeaderBag,
  rawBody: string | Buffer,
  options: { toleranceSeconds?: number; nowMs?: number } = {},
): boolean {
  const requestId = headerValue(headers, 'x-fal-webhook-request-id');
  const userId = headerValue(headers, 'x-fal-webhook-user-id');
  const timestamp = headerValue(headers, 'x-fal-webhook-timestamp');
  const signatureHex = headerValue(headers, 'x-fal-webhook-signature');
  if (!requestId || !userId || !timestamp || !signatureHex || !/^\d+$/.test(timestamp) || !/^[0-9a-f]+$/i.test(signatureHex)) return false;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const message = falSignedMessage(requestId, userId, timestamp, rawBody);
  const signature = Buffer.from(signatureHex, 'hex');
  return keys.some((key) => {
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  });
}
