import { ProviderError, type ProviderErrorKind } from '../adapter/provider-error';
import type { HttpErrorInfo } from '../http/provider-http';
import type { MinimaxBaseResp } from './minimax-wire';

/**
 * `base_resp.status_code` → kind. MiniMax answers most errors with HTTP 200 and a non-zero code;
 * the codes below are the commonly reported ones (the list is not documented for certain). An unknown
 * code is a server-side fault. A submit refused with one is not retried blindly; a status read is
 * (`unknown: 'retry'`): it changes nothing, and one odd answer must not fail a task that may succeed.
 */
const CODES: Record<number, ProviderErrorKind> = {
  1002: 'rate_limited',
  1039: 'rate_limited',
  1004: 'auth',
  1008: 'billing',
  1026: 'moderation',
  1027: 'moderation',
  2013: 'invalid_request',
};

/**
 * Server faults MiniMax's error table tells callers to retry later: 1000 (unknown error) and 1013
 * (internal service error). An answered refusal made no task, so a submit may be tried again.
 * 1001 (request timeout) is not among them: a create that timed out there may have made a task.
 */
const TRY_AGAIN_LATER: ReadonlySet<number> = new Set([1000, 1013]);

/** The error a non-zero `base_resp` stands for, or null when the call succeeded. */
export function baseRespError(base: MinimaxBaseResp | undefined, where: string, unknown: 'final' | 'retry' = 'final'): ProviderError | null {
  const code = base?.status_code;
  if (code === undefined || code === 0) return null;
  const kind = CODES[code] ?? 'server';
  const detail = `${where} → status_code ${code}: ${(base?.status_msg ?? '').slice(0, 300)}`;
  const retryable = kind !== 'server' ? undefined : unknown === 'retry' || TRY_AGAIN_LATER.has(code);
  return new ProviderError(kind, detail, { providerCode: String(code), ...(retryable === undefined ? {} : { retryable }) });
}

/** Errors that do come as HTTP statuses (auth at the edge, overload, a body that is not JSON). */
export function mapMinimaxHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const base = (info.body as { base_resp?: MinimaxBaseResp } | undefined)?.base_resp;
  const fromBody = baseRespError(base, `${info.method} ${info.path} HTTP ${info.status}`);
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status}${base ? `: ${base.status_code} ${base.status_msg ?? ''}` : ''}`);
  const init = { httpStatus: info.status, retryAfterMs: info.retryAfterMs, providerCode: fromBody?.providerCode };
  if (info.status === 429) return new ProviderError('rate_limited', d, init);
  if (info.status === 408 || info.status === 504) return new ProviderError('timeout', d, init);
  if (info.status >= 500) return new ProviderError('server', d, init);
  if (info.status === 401 || info.status === 403) return new ProviderError('auth', d, init);
  if (info.status === 404) return new ProviderError('not_found', d, init);
  return new ProviderError(fromBody?.kind ?? 'invalid_request', d, init);
}
