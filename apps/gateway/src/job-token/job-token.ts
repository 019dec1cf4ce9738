import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived read tokens for one job, for browsers that cannot send an API key: an EventSource
 * (`GET /v1/jobs/{id}/stream?token=`) and a `<video src>` (`GET /v1/jobs/{id}/content?token=`).
 * The token names the user and its expiry and is signed for that job only; nothing is stored, so
 * it stays valid until it expires (also when the key that asked for it is revoked meanwhile).
 */
export interface JobTokenClaims {
  userId: string;
  expiresAt: Date;
}

const MAX_TOKEN_LENGTH = 512;

export function signJobToken(secret: string, jobId: string, claims: JobTokenClaims): string {
  const payload = Buffer.from(`${claims.userId}\n${Math.floor(claims.expiresAt.getTime() / 1000)}`).toString('base64url');
  return `${payload}.${signature(secret, jobId, payload)}`;
}

/** What a token for `jobId` says (its user and expiry), or null when it is malformed, for another job, or expired. */
export function verifyJobToken(secret: string, jobId: string, token: string, now: Date): JobTokenClaims | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const [payload, sig, ...rest] = token.split('.');
  if (!payload || !sig || rest.length) return null;
  const expected = Buffer.from(signature(secret, jobId, payload));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const [userId, expires] = Buffer.from(payload, 'base64url').toString('utf8').split('\n');
  if (!userId || !/^\d{1,12}$/.test(expires ?? '') || Number(expires) * 1000 <= now.getTime()) return null;
  return { userId, expiresAt: new Date(Number(expires) * 1000) };
}

function signature(secret: string, jobId: string, payload: string): string {
  return createHmac('sha256', secret).update(`reelay-job-token\n${jobId}\n${payload}`).digest('base64url');
}

/** JOB_TOKEN_SECRET, or a key derived from WEBHOOK_MASTER_SECRET; null when neither is set. */
export function jobTokenSecret(config: { JOB_TOKEN_SECRET?: string; WEBHOOK_MASTER_SECRET?: string }): string | null {
  if (config.JOB_TOKEN_SECRET) return config.JOB_TOKEN_SECRET;
  if (config.WEBHOOK_MASTER_SECRET) return createHmac('sha256', config.WEBHOOK_MASTER_SECRET).update('reelay job tokens v1').digest('base64url');
  return null;
}
