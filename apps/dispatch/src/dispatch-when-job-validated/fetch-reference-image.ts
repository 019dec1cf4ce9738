import { isUnsafeUrlError, safeFetch } from '@reelay/net-guard';

export interface ReferenceImageFetchRules {
  timeoutMs: number;
  /** OUTBOUND_ALLOW_HOSTS: dev/test hosts exempt from the address checks. */
  allowHosts: readonly string[];
}

export type FetchReferenceImage = (url: string, maxBytes: number) => Promise<string>;

/** Why a user's reference image could not be fetched for a provider that takes it inline. */
export class ReferenceImageUnavailable extends Error {}

/**
 * Fetches a user's reference image URL as a `data:` URL, under the same SSRF guard as intake's
 * check (every hop's address checked, the connection pinned to it): the URL was checked when the
 * job was validated, but what it resolves to or redirects to may have changed since.
 */
export function referenceImageFetcher(rules: ReferenceImageFetchRules): FetchReferenceImage {
  return async (url, maxBytes) => {
    try {
      const res = await safeFetch(url, { maxBytes, timeoutMs: rules.timeoutMs, maxRedirects: 3, allowHosts: rules.allowHosts });
      if (res.status < 200 || res.status >= 300) throw new ReferenceImageUnavailable(`reference image answered HTTP ${res.status}`);
      const type = String(res.headers['content-type'] ?? 'image/png').split(';')[0]!.trim();
      return `data:${type};base64,${res.body.toString('base64')}`;
    } catch (err) {
      if (err instanceof ReferenceImageUnavailable) throw err;
      throw new ReferenceImageUnavailable(`reference image fetch refused or failed: ${isUnsafeUrlError(err) ? err.reason : (err as Error).message}`);
    }
  };
}
