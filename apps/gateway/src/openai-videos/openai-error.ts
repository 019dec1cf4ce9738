import type { OpenAIErrorEnvelope } from '@reelay/contracts';
import type { ErrorResponse } from '../errors/error-envelope';
import { openAIParam } from './video-mapping';

export function openAIErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'insufficient_quota';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Routes answered with OpenAI's error envelope instead of api.md's. */
export const isOpenAIRoute = (path: string) => /^\/v1\/videos(\/|$)/i.test(path); // as case-insensitive as Express's routing

/**
 * api.md's error → OpenAI's `{error: {message, type, param, code}}`: `code` keeps reelay's code,
 * `param` is the first field at fault (in OpenAI's parameter names) and the message names every one.
 */
export function toOpenAIErrorResponse(r: ErrorResponse, request: { method: string; idempotencyKey?: string } = { method: 'GET' }): ErrorResponse & { body: OpenAIErrorEnvelope } {
  const { code, message, details } = r.body.error;
  const first = details?.find((d) => d.path !== '(body)');
  const full = details?.length ? `${message} ${details.map((d) => `${openAIParam(d.path)}: ${d.message}`).join('; ')}` : message;
  return {
    // OpenAI answers values a model cannot take (e.g. seconds) with 400, where api.md says 422.
    status: r.status === 422 ? 400 : r.status,
    // The SDKs retry 409 by default; reelay's 409s (a state, a reused key) stay 409 on a retry. They
    // retry 5xx too, POSTs included, and send no Idempotency-Key unless told: a create or remix that
    // timed out may have been recorded, so a silent retry could make (and charge) a second video.
    headers: r.status === 409 || (r.status >= 500 && request.method === 'POST' && !request.idempotencyKey) ? { ...r.headers, 'x-should-retry': 'false' } : r.headers,
    body: { error: { message: full, type: openAIErrorType(r.status === 422 ? 400 : r.status), param: first ? openAIParam(first.path) : null, code } },
  };
}
