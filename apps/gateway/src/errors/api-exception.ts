import { API_ERROR_STATUS, type ApiErrorCode, type ErrorDetail } from '@reelay/contracts';

/** An error that becomes the api.md envelope as is: its message is written for clients. */
export class ApiException extends Error {
  readonly status: number;
  readonly details?: ErrorDetail[];
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    opts: { details?: ErrorDetail[]; headers?: Record<string, string>; status?: number } = {},
  ) {
    super(message);
    this.name = 'ApiException';
    this.status = opts.status ?? API_ERROR_STATUS[code];
    this.details = opts.details;
    this.headers = opts.headers ?? {};
  }
}

export const notFound = (what = 'resource') => new ApiException('not_found', `No such ${what}.`);
export const invalidRequest = (message: string, details?: ErrorDetail[]) => new ApiException('invalid_request', message, { details });
