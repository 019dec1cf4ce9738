import { safeFetch } from './safe-fetch';
import { isUnsafeUrlError } from './unsafe-url-error';

export interface UserFileRules {
  maxBytes: number;
  timeoutMs: number;
  /** Dev/test hosts exempt from the address checks (OUTBOUND_ALLOW_HOSTS). */
  allowHosts: readonly string[];
}

export type UserFile =
  | { ok: true; body: Buffer; contentType: string | null }
  | { ok: false; tooLarge: boolean; detail: string };

/**
 * Fetches a file at a URL a user gave (a reference image) under the SSRF guard, following up to 3
 * redirects, each hop checked. Never throws: a refusal, a failure or a non-2xx answer comes back
 * as a reason fit for an operator's log (no response body in it).
 */
export async function fetchUserFile(url: string, rules: UserFileRules): Promise<UserFile> {
  try {
    const res = await safeFetch(url, { maxBytes: rules.maxBytes, timeoutMs: rules.timeoutMs, maxRedirects: 3, allowHosts: rules.allowHosts });
    if (res.status < 200 || res.status >= 300) return { ok: false, tooLarge: false, detail: `answered HTTP ${res.status}` };
    const type = res.headers['content-type']?.split(';')[0]?.trim();
    return { ok: true, body: res.body, contentType: type || null };
  } catch (err) {
    if (isUnsafeUrlError(err) && err.reason === 'too_large') return { ok: false, tooLarge: true, detail: 'too large' };
    return { ok: false, tooLarge: false, detail: `fetch refused or failed: ${isUnsafeUrlError(err) ? err.reason : (err as Error).message}` };
  }
}
