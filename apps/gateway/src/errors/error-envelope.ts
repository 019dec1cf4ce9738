import { API_ERROR_STATUS, ApiErrorCode, type ApiErrorEnvelope } from '@reelay/contracts';
import { ApiException } from './api-exception';
import { isDatabaseUnavailable } from '@reelay/event-store';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ApiErrorEnvelope;
}

const GENERIC_MESSAGES: Partial<Record<ApiErrorCode, string>> = {
  invalid_request: 'The request is not valid.',
  unauthorized: 'A valid API key is required.',
  not_found: 'Not found.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'This content type is not supported.',
  rate_limited: 'Too many requests. Please slow down.',
  service_unavailable: 'The service is temporarily unavailable. Please try again.',
  internal_error: 'Something went wrong on our side. Please try again.',
};

const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  402: 'insufficient_credits',
  // A 403 the framework raises (a guard refusing) reads as a missing resource: what a key may not see does not exist for it. reelay's own 403 (a read-only key writing) is an ApiException with the code forbidden.
  403: 'not_found',
  404: 'not_found',
  405: 'not_found',
  409: 'invalid_state',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unsupported_settings',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** The message for a code when nothing more specific may be said. */
export const genericMessage = (code: ApiErrorCode) => GENERIC_MESSAGES[code] ?? 'The request could not be completed.';

function statusOf(err: unknown): number | undefined {
  const e = err as { getStatus?: () => number; status?: unknown; statusCode?: unknown };
  if (typeof e?.getStatus === 'function') return e.getStatus();
  // Errors from Node/Express internals (e.g. body parsing) carry status or statusCode.
  for (const s of [e?.status, e?.statusCode]) if (typeof s === 'number' && s >= 400 && s < 600) return s;
  return undefined;
}

/**
 * Any thrown value → the api.md error envelope. Only ApiException messages reach clients; anything
 * else gets the generic text for its status, so no stack, SQL or provider text can leak.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof ApiException) {
    const error = { code: err.code, message: err.message, ...(err.details?.length ? { details: err.details } : {}) };
    return { status: err.status, headers: err.headers, body: { error } };
  }
  if (isDatabaseUnavailable(err)) {
    return { status: 503, headers: { 'Retry-After': '2' }, body: { error: { code: 'service_unavailable', message: genericMessage('service_unavailable') } } };
  }
  const status = statusOf(err);
  const code = (status && CODE_BY_STATUS[status]) || (status && status < 500 ? 'invalid_request' : 'internal_error');
  // The status api.md gives the code, so clients that branch on either agree (a framework 405 is a 404 here).
  return { status: API_ERROR_STATUS[code], headers: {}, body: { error: { code, message: genericMessage(code) } } };
}
