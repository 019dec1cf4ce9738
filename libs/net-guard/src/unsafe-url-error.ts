import type { AddressClass } from './classify-address';

export type UnsafeUrlReason =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'credentials_in_url'
  | 'port_not_allowed'
  | 'blocked_hostname'
  | 'private_address'
  | 'resolution_failed'
  | 'invalid_redirect'
  | 'too_many_redirects'
  | 'too_large'
  | 'timeout'
  | 'connection_failed'
  | 'aborted';

/**
 * A refused or failed outbound fetch. `message` is plain English and safe to show the user who
 * supplied the URL: it names at most the host they typed, never a resolved or redirected address.
 * `addressClass` (for logs) says which kind of non-public address was hit.
 */
export class UnsafeUrlError extends Error {
  override readonly name = 'UnsafeUrlError';

  /** The HTTP status of the answer that was refused (a redirect not followed), where there was one. */
  httpStatus?: number;

  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
    readonly addressClass?: Exclude<AddressClass, 'public'>,
  ) {
    super(message);
  }
}

export function isUnsafeUrlError(error: unknown): error is UnsafeUrlError {
  return error instanceof UnsafeUrlError;
}
