import { ProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { FalErrorBody, FalValidationItem } from './fal-wire';

const TIMEOUT_TYPES = new Set(['request_timeout', 'startup_timeout']);
const CAPACITY_TYPES = new Set(['runner_scheduling_failure']);
// A file that was fetched but is too large (`image_too_large`, `file_too_large`) is a validation error, not a failed fetch.
const ASSET_TYPES = /download|fetch|unreachable/;
const CANCELED = /cancel/i;

/**
 * fal errors (providers.md §7, §10): 422 `detail[]` with per-field `type`, or flat
 * `{detail, error_type}` infrastructure errors with `X-Fal-Error-Type`. The retry hint header is
 * named `X-Fal-Retryable` in current docs and `X-Fal-Needs-Retry` in older ones; both are read.
 */
export function mapFalHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const body = (typeof info.body === 'object' && info.body !== null ? info.body : {}) as FalErrorBody & { status?: unknown };
  const items: FalValidationItem[] = Array.isArray(body.detail) ? body.detail : [];
  const cancelStatus = typeof body.status === 'string' ? body.status : undefined; // cancel answers `{status}`
  const errorType = info.headers.get('x-fal-error-type') ?? body.error_type ?? cancelStatus;
  const itemTypes = items.map((i) => i.type ?? '').filter(Boolean);
  const message = typeof body.detail === 'string' ? body.detail : items.map((i) => `${(i.loc ?? []).join('.')}: ${i.msg ?? ''} (${i.type ?? ''})`).join('; ');
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status} ${errorType ?? itemTypes.join(',')}: ${message}`);
  const hint = info.headers.get('x-fal-retryable') ?? info.headers.get('x-fal-needs-retry');
  const init = {
    httpStatus: info.status,
    retryAfterMs: info.retryAfterMs,
    providerCode: errorType ?? itemTypes[0],
    ...(hint !== null ? { retryable: /^(1|true|yes)$/i.test(hint.trim()) } : {}),
  };
  if (itemTypes.includes('content_policy_violation')) return new ProviderError('moderation', d, init);
  if (itemTypes.some((t) => ASSET_TYPES.test(t))) return new ProviderError('asset_fetch', d, init);
  if (info.status === 429) return new ProviderError('rate_limited', d, init);
  if (errorType && TIMEOUT_TYPES.has(errorType)) return new ProviderError('timeout', d, init);
  if (errorType && CAPACITY_TYPES.has(errorType)) return new ProviderError('rate_limited', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 402) return new ProviderError('billing', d, init);
  if (info.status === 404) return new ProviderError('not_found', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** A result error that says the request was cancelled. */
export function isFalCancellation(info: { status?: number; detail: string; providerCode?: string }): boolean {
  return info.status === 499 || CANCELED.test(info.providerCode ?? '') || CANCELED.test(info.detail);
}
