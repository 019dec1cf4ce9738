import { ProviderError, type ProviderErrorKind } from '../adapter/provider-error';
import { defaultHttpError, type HttpErrorInfo } from '../http/provider-http';

/**
 * Kling's `code` families (providers.md §8, marked UNSURE there): 1000–1004 authentication,
 * 1100–1103 account and balance, 1200–1203 parameters, 1300 policy, 1301 content security,
 * 1302 rate, 1303 concurrency or resource-pack limit, 1304 IP allow-list, 5000–5002 server.
 */
export function klingCodeKind(code: number): ProviderErrorKind {
  if (code >= 1000 && code <= 1004) return 'auth';
  if (code >= 1100 && code <= 1103) return 'billing';
  if (code === 1203) return 'not_found';
  if (code >= 1200 && code <= 1299) return 'invalid_request';
  if (code === 1301) return 'moderation';
  if (code === 1302 || code === 1303) return 'rate_limited';
  if (code === 1304) return 'auth';
  if (code >= 1300 && code <= 1399) return 'invalid_request';
  if (code === 5002) return 'timeout';
  return 'server';
}

/** The error a non-zero envelope `code` stands for, or null when the call succeeded. */
export function klingEnvelopeError(envelope: { code?: number; message?: string } | undefined, where: string, httpStatus?: number): ProviderError | null {
  const code = envelope?.code;
  if (code === undefined || code === 0) return null;
  const kind = klingCodeKind(code);
  return new ProviderError(kind, `${where} → code ${code}: ${(envelope?.message ?? '').slice(0, 300)}`, { providerCode: String(code), httpStatus });
}

/** HTTP errors: the envelope's code decides when there is one, else the status (the shared rules). */
export function mapKlingHttpError(info: HttpErrorInfo, detail: (t: string) => string): ProviderError {
  const envelope = typeof info.body === 'object' && info.body !== null ? (info.body as { code?: number; message?: string }) : undefined;
  if (typeof envelope?.code !== 'number' || envelope.code === 0) return defaultHttpError(info, detail);
  const d = detail(`${info.method} ${info.path} → HTTP ${info.status} code ${envelope.code}: ${envelope.message ?? ''}`);
  return new ProviderError(klingCodeKind(envelope.code), d, { httpStatus: info.status, retryAfterMs: info.retryAfterMs, providerCode: String(envelope.code) });
}
