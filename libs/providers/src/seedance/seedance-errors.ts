import { MODEL_UNAVAILABLE, ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { ArkErrorBody } from './seedance-wire';

const MODERATION = /SensitiveContentDetected|RiskDetection/;
const RATE_LIMIT = /^(RateLimitExceeded|ModelAccount(Rpm|Tpm)RateLimitExceeded|ServerOverloaded|ModelLoadingError|QuotaExceeded)/;
const ASSET_PARAM = /^content\[\d+\]\.(image_url|video_url|audio_url)/;
// UNSURE (providers.md §1): Ark's exact wording for an unreachable input URL is not documented.
const ASSET_MESSAGE = /not found|unreachable|download|fetch|access|timed? ?out|resolve/i;

/** Ark HTTP error envelope `{"error":{code,message,param,type}}` → ProviderError (providers.md §10). */
export function mapSeedanceHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const err = (info.body as ArkErrorBody | undefined)?.error ?? {};
  const code = err.code ?? '';
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status} ${code}: ${err.message ?? ''}`);
  const init = { providerCode: code || undefined, httpStatus: info.status, retryAfterMs: info.retryAfterMs };
  if (MODERATION.test(code)) return new ProviderError('moderation', d, init);
  if (info.status === 429 || RATE_LIMIT.test(code)) return new ProviderError('rate_limited', d, init);
  // A closed or unknown endpoint (ep-...) is the operator's model setting, not the user's request.
  if (code.startsWith('InvalidEndpoint')) return new ProviderError('not_found', d, { ...init, providerCode: MODEL_UNAVAILABLE });
  if (info.status === 401) return new ProviderError('auth', d, init);
  if (info.status === 403) return new ProviderError(code === 'AccountOverdueError' ? 'billing' : 'auth', d, init);
  if (info.status === 404) return new ProviderError('not_found', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (code === 'InvalidParameter' && ASSET_PARAM.test(err.param ?? '') && ASSET_MESSAGE.test(err.message ?? '')) {
    return new ProviderError('asset_fetch', d, init);
  }
  return new ProviderError('invalid_request', d, init);
}

/** Task-level `error.code` of a failed task → normalized error. */
export function mapSeedanceTaskError(code: string | undefined, message: string | undefined): NormalizedProviderError {
  const detail = `seedance task failed ${code ?? '(no code)'}: ${message ?? ''}`.slice(0, 500);
  if (code && MODERATION.test(code)) return normalizedError('moderation', detail, { providerCode: code });
  if (code && RATE_LIMIT.test(code)) return normalizedError('rate_limited', detail, { providerCode: code });
  return normalizedError('server', detail, { providerCode: code, retryable: false });
}
