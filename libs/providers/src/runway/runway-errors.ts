import { ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { RunwayErrorBody } from './runway-wire';

// UNSURE (providers.md §3): Runway's wording for an unreachable promptImage URL is not documented,
// so the image and what failed are matched in either order.
const ASSET_MESSAGE = /^(?=.*(promptImage|image|asset|uri|url))(?=.*(fetch|reach|download|HEAD|redirect|content-type|content-length|invalid url|not accessible))/is;

/** Runway HTTP errors → ProviderError (providers.md §10). */
export function mapRunwayHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const message = typeof info.body === 'string' ? info.body : ((info.body as RunwayErrorBody | undefined)?.error ?? '');
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status}: ${message}`);
  const init = { httpStatus: info.status, retryAfterMs: info.retryAfterMs };
  if (info.status === 429) return new ProviderError('rate_limited', d, init);
  if (info.status === 504 || info.status === 408) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 404) return new ProviderError('not_found', d, init);
  if (info.status === 400 && /moderation|SAFETY\./i.test(message)) return new ProviderError('moderation', d, init);
  if (info.status === 400 && ASSET_MESSAGE.test(message)) return new ProviderError('asset_fetch', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** FAILED task `failureCode` → normalized error. */
export function mapRunwayFailure(failureCode: string | undefined, failure: string | undefined): NormalizedProviderError {
  const code = failureCode ?? '';
  const detail = `runway task failed ${code || '(no code)'}: ${failure ?? ''}`.slice(0, 500);
  const init = { providerCode: failureCode };
  if (code.startsWith('SAFETY.') || code.startsWith('INPUT_PREPROCESSING.SAFETY')) return normalizedError('moderation', detail, init);
  if (code.startsWith('INTERNAL.BAD_OUTPUT')) return normalizedError('output_missing', detail, { ...init, retryable: true });
  if (code.startsWith('ASSET.')) return normalizedError('invalid_request', detail, init);
  if (code === 'INTERNAL' || code === 'INPUT_PREPROCESSING.INTERNAL' || code.startsWith('THIRD_PARTY.')) {
    return normalizedError('server', detail, { ...init, retryable: true });
  }
  return normalizedError('server', detail, { ...init, retryable: false });
}
