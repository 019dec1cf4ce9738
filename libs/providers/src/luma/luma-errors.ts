import { ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { LumaErrorBody } from './luma-wire';

const MODERATION = /moderat|safety|nsfw|policy/i;
// UNSURE (providers.md §4): failure_reason is free text; these are the observed/likely phrasings.
const ASSET = /keyframe|image url|frame0|frame1|(fetch|download|load|access).*(image|asset|url)|invalid (image|asset)/i;

export function mapLumaHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const raw = typeof info.body === 'string' ? info.body : (info.body as LumaErrorBody | undefined)?.detail;
  const message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status}: ${message}`);
  const init = { httpStatus: info.status, retryAfterMs: info.retryAfterMs };
  if (info.status === 429) return new ProviderError('rate_limited', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 402) return new ProviderError('billing', d, init);
  if (info.status === 404) return new ProviderError('not_found', d, init);
  if (MODERATION.test(message)) return new ProviderError('moderation', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** `failure_reason` free text of a failed generation → normalized error. */
export function mapLumaFailure(reason: string | null | undefined): NormalizedProviderError {
  const text = reason ?? '';
  const detail = `luma generation failed: ${text}`.slice(0, 500);
  if (MODERATION.test(text)) return normalizedError('moderation', detail);
  if (ASSET.test(text)) return normalizedError('asset_fetch', detail);
  return normalizedError('server', detail, { retryable: false });
}
