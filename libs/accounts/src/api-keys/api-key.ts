import { createHash, randomInt } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PATTERN = /^rly_[0-9A-Za-z]{32}$/;

/** `rly_` + 32 base62 characters from the CSPRNG (about 190 bits). */
export function generateApiKey(): string {
  let out = 'rly_';
  for (let i = 0; i < 32; i++) out += BASE62[randomInt(62)];
  return out;
}

/** Keys are stored only as this hash; a fast hash is fine because keys are random, not passwords. */
export const hashApiKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
