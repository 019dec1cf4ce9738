import { MODEL_UNAVAILABLE, ProviderError, normalizedError, type NormalizedProviderError } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import { GRPC, type GoogleErrorBody, type GoogleRpcStatus } from './veo-wire';

const SAFETY_MESSAGE = /safety|usage guidelines|responsible ai|\brai\b|blocked|sensitive|prohibited/i;
/** Google's words for a retired model (404 "... is no longer available"). */
const RETIRED_MESSAGE = /no longer available/i;

/** Google `{"error":{code,message,status}}` HTTP errors → ProviderError (providers.md §5, §10). */
export function mapVeoHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const err: GoogleRpcStatus = (info.body as GoogleErrorBody | undefined)?.error ?? {};
  const status = err.status ?? undefined;
  const message = err.message ?? '';
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status} ${status ?? ''}: ${message}`);
  const init = { providerCode: status, httpStatus: info.status, retryAfterMs: info.retryAfterMs ?? retryDelayMs(err.details) };
  if (info.status === 429 || status === 'RESOURCE_EXHAUSTED') return new ProviderError('rate_limited', d, init);
  if (info.status === 401 || status === 'UNAUTHENTICATED') return new ProviderError('auth', d, init);
  if (info.status === 403 || status === 'PERMISSION_DENIED') return new ProviderError('auth', d, init);
  if (info.status === 404) {
    // A retired model answers 404 "... is no longer available": a configuration fault, never retried.
    return new ProviderError('not_found', d, { ...init, providerCode: RETIRED_MESSAGE.test(message) ? MODEL_UNAVAILABLE : status });
  }
  if (info.status === 408 || info.status === 504 || status === 'DEADLINE_EXCEEDED') return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (SAFETY_MESSAGE.test(message)) return new ProviderError('moderation', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** `operation.error` (numeric gRPC code) → normalized error; CANCELLED is handled by the caller. */
export function mapVeoOperationError(error: GoogleRpcStatus): NormalizedProviderError {
  const code = error.code;
  const message = error.message ?? '';
  const detail = `veo operation failed code ${code ?? '?'}: ${message}`.slice(0, 500);
  const providerCode = code === undefined ? undefined : String(code);
  if (SAFETY_MESSAGE.test(message)) return normalizedError('moderation', detail, { providerCode });
  switch (code) {
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
      return normalizedError('invalid_request', detail, { providerCode });
    case GRPC.DEADLINE_EXCEEDED:
      return normalizedError('timeout', detail, { providerCode });
    case GRPC.RESOURCE_EXHAUSTED:
      return normalizedError('rate_limited', detail, { providerCode });
    case GRPC.INTERNAL:
    case GRPC.UNAVAILABLE:
      return normalizedError('server', detail, { providerCode });
    default:
      return normalizedError('server', detail, { providerCode, retryable: false });
  }
}

/**
 * Google says when to retry in the error's details, not in a header: a `google.rpc.RetryInfo` with
 * `retryDelay` as a protobuf Duration in JSON ("2s", "0.5s").
 */
export function retryDelayMs(details: unknown[] | undefined): number | undefined {
  for (const d of details ?? []) {
    const info = d as { '@type'?: unknown; retryDelay?: unknown };
    if (info['@type'] !== 'type.googleapis.com/google.rpc.RetryInfo' || typeof info.retryDelay !== 'string') continue;
    const seconds = /^(\d+(?:\.\d+)?)s$/.exec(info.retryDelay);
    if (seconds) return Math.round(Number(seconds[1]) * 1000);
  }
  return undefined;
}
