import { invalidRequest } from '../errors/api-exception';

/** Keys reelay makes for the jobs of POST /v1/jobs/regenerate-failed, in the same per-user key space as the clients' keys. */
export const RESERVED_KEY_PREFIX = 'regenerate-failed:';

/** The `Idempotency-Key` header as given (1–255 visible ASCII characters), or a 400 naming it. */
export function validIdempotencyKey(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw invalidRequest('The Idempotency-Key header is not valid.', [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }]);
  }
  // A client's key of that shape would take the key of a failed job's new job, and block it for good.
  if (value?.startsWith(RESERVED_KEY_PREFIX)) {
    throw invalidRequest('The Idempotency-Key header is not valid.', [{ path: 'Idempotency-Key', message: `must not start with "${RESERVED_KEY_PREFIX}" (reelay's own keys)` }]);
  }
  return value;
}
