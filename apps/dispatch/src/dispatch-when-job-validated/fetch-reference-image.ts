import { fetchUserFile, type UserFileRules } from '@reelay/net-guard';

export type ReferenceImageFetchRules = Omit<UserFileRules, 'maxBytes'>;

export type FetchReferenceImage = (url: string, maxBytes: number) => Promise<string>;

/** Why a user's reference image could not be fetched for a provider that takes it inline. */
export class ReferenceImageUnavailable extends Error {}

/**
 * Fetches a user's reference image URL as a `data:` URL, under the same SSRF guard as intake's
 * check: the URL was checked when the job was validated, but what it resolves to or redirects to
 * may have changed since.
 */
export function referenceImageFetcher(rules: ReferenceImageFetchRules): FetchReferenceImage {
  return async (url, maxBytes) => {
    const file = await fetchUserFile(url, { ...rules, maxBytes });
    if (!file.ok) throw new ReferenceImageUnavailable(`reference image ${file.detail}`);
    return `data:${file.contentType ?? 'image/png'};base64,${file.body.toString('base64')}`;
  };
}
