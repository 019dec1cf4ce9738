import { createHmac } from 'node:crypto';

/** How long a token is valid; Kling's own samples use 30 minutes. */
export const KLING_TOKEN_TTL_SECONDS = 1800;

/**
 * Kling's API token: a JWT signed HS256 with the secret key, naming the access key as issuer,
 * valid from 5 s ago (clock skew) for KLING_TOKEN_TTL_SECONDS.
 */
export function klingToken(accessKey: string, secretKey: string, nowSeconds: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: accessKey, exp: nowSeconds + KLING_TOKEN_TTL_SECONDS, nbf: nowSeconds - 5 })}`;
  return `${unsigned}.${createHmac('sha256', secretKey).update(unsigned).digest('base64url')}`;
}
