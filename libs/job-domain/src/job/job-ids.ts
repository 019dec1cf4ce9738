import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeBase32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.padEnd(length, '0');
}

/** A ULID-style id: 48-bit time then 80 random bits, so ids sort by creation time. */
export function newJobId(now: Date = new Date(), random: Uint8Array = randomBytes(10)): string {
  const time = Buffer.alloc(6);
  time.writeUIntBE(now.getTime(), 0, 6);
  return `job_${encodeBase32(Buffer.concat([time, random]), 26)}`;
}

/**
 * The job id an Idempotency-Key maps to: deterministic per user and key, so a retried submit
 * lands on the same stream and the log itself (expected version 0) arbitrates duplicates.
 */
export function jobIdForIdempotencyKey(userId: string, key: string): string {
  const digest = createHash('sha256').update(`${userId}\u0000${key}`).digest();
  return `job_${encodeBase32(digest, 26)}`;
}

/** Stable hash of a request body, independent of key order. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
