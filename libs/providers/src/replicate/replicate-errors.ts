import { ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { ReplicateErrorBody } from './replicate-wire';

const MODERATION = /sensitive|nsfw|safety|flagged|content policy|moderat|\(E005\)/i;
const TIMEOUT = /timed out|timeout/i;
const ASSET = /download|fetch|retriev|could not (load|open|read)|input file|HTTP 4\d\d/i;

/** HTTP errors (problem-details JSON, `{"detail": ...}` on 429) → ProviderError. */
export function mapReplicateHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const body = (typeof info.body === 'object' && info.body !== null ? info.body : {}) as ReplicateErrorBody;
  const text = [body.title, body.detail, ...(body.invalid_fields ?? []).map((f) => f.description)].filter(Boolean).join(' ');
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status}: ${text || String(info.body).slice(0, 200)}`);
  const init = { httpStatus: info.status, retryAfterMs: info.retryAfterMs, providerCode: `http_${info.status}` };
  if (info.status === 429) return new ProviderError('rate_limited', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 402) return new ProviderError('billing', d, init);
  if (info.status === 404 || info.status === 410) return new ProviderError('not_found', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (MODERATION.test(text)) return new ProviderError('moderation', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** The free-text `error` of a failed prediction → normalized error (providers.md §10, Replicate row). */
export function mapReplicateFailure(error: unknown): NormalizedProviderError {
  const text = typeof error === 'string' ? error : JSON.stringify(error ?? null);
  const detail = `replicate prediction failed: ${text}`.slice(0, 500);
  const code = /\((E\d{3,4})\)/.exec(text)?.[1];
  const init = code ? { providerCode: code } : {};
  if (MODERATION.test(text)) return normalizedError('moderation', detail, init);
  if (TIMEOUT.test(text)) return normalizedError('timeout', detail, init);
  if (ASSET.test(text)) return normalizedError('asset_fetch', detail, init);
  return normalizedError('server', detail, { ...init, retryable: false });
}
