import { invalidRequest } from '../errors/api-exception';

/** The `Idempotency-Key` header as given (1–255 visible ASCII characters), or a 400 naming it. */
export function validIdempotencyKey(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw invalidRequest('The Idempotency-Key header is not valid.', [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }]);
  }
  return value;
}
