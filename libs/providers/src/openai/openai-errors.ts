import { ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { OpenAIErrorBody } from './openai-wire';

const MODERATION_CODES = new Set(['moderation_blocked', 'content_policy_violation', 'content_filter']);
// UNSURE (providers.md §2): the code for an unreachable input_reference.image_url is not published.
const ASSET_MESSAGE = /fetch|download|retriev|unreachable|could not (load|access|read)/i;

/** OpenAI `{"error":{message,type,param,code}}` → ProviderError (providers.md §10). */
export function mapOpenAIHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const err = (info.body as OpenAIErrorBody | undefined)?.error ?? {};
  const code = err.code ?? err.type ?? undefined;
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status} ${code ?? ''}: ${err.message ?? ''}`);
  const init = { providerCode: code ?? undefined, httpStatus: info.status, retryAfterMs: info.retryAfterMs };
  if (code && MODERATION_CODES.has(code)) return new ProviderError('moderation', d, init);
  if (info.status === 429) return new ProviderError(code === 'insufficient_quota' ? 'billing' : 'rate_limited', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 404 || info.status === 410) return new ProviderError('not_found', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  // A conflict (a lock held by a concurrent request) says nothing about ours, nor about OpenAI's health: the SDK retries it too.
  if (info.status === 409) return new ProviderError('server', d, { ...init, retryable: true, notProviderFault: true });
  if (info.status >= 500) return new ProviderError('server', d, init);
  if ((err.param ?? '').startsWith('input_reference') && ASSET_MESSAGE.test(err.message ?? '')) {
    return new ProviderError('asset_fetch', d, init);
  }
  return new ProviderError('invalid_request', d, init);
}

/** `error.code` of a failed video → normalized error. */
export function mapOpenAIVideoError(code: string | undefined, message: string | undefined): NormalizedProviderError {
  const detail = `openai video failed ${code ?? '(no code)'}: ${message ?? ''}`.slice(0, 500);
  if (code && MODERATION_CODES.has(code)) return normalizedError('moderation', detail, { providerCode: code });
  return normalizedError('server', detail, { providerCode: code, retryable: false });
}
