import { z } from 'zod';

export const ApiErrorCode = z.enum([
  'invalid_request',
  'unauthorized',
  'forbidden',
  'insufficient_credits',
  'not_found',
  'idempotency_conflict',
  'invalid_state',
  'output_deleted',
  'payload_too_large',
  'unsupported_media_type',
  'unsupported_settings',
  'rate_limited',
  'internal_error',
  'service_unavailable',
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

export const API_ERROR_STATUS: Record<ApiErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  insufficient_credits: 402,
  not_found: 404,
  idempotency_conflict: 409,
  invalid_state: 409,
  output_deleted: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_settings: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
};

export const ErrorDetail = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetail>;

export const ApiError = z.object({
  code: ApiErrorCode,
  message: z.string(),
  details: z.array(ErrorDetail).optional(),
});
export type ApiError = z.infer<typeof ApiError>;

export const ApiErrorEnvelope = z.object({ error: ApiError });
export type ApiErrorEnvelope = z.infer<typeof ApiErrorEnvelope>;

/** Per-field details from a zod error, with dotted paths as clients expect them. */
export function detailsFromIssues(issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[]): ErrorDetail[] {
  return issues.flatMap((i) => {
    const at = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(body)';
    // zod reports unknown fields once, at the object holding them: name each field instead.
    if (i.code === 'unrecognized_keys' && i.keys?.length) return i.keys.map((key) => ({ path: at([...i.path, key]), message: 'Unknown field.' }));
    return [{ path: at(i.path), message: i.message }];
  });
}
