import { sniffImage } from '@reelay/media';
import { fetchUserFile, type UserFileRules } from '@reelay/net-guard';

export type ReferenceImageFetchRules = Omit<UserFileRules, 'maxBytes'>;

export type FetchReferenceImage = (url: string, maxBytes: number) => Promise<string>;

/** Why a user's reference image could not be fetched for a provider that takes it inline. */
export class ReferenceImageUnavailable extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * Fetches a user's reference image URL as a `data:` URL, under the same SSRF guard as intake's
 * check: the URL was checked when the job was validated, but what it resolves to or redirects to
 * may have changed since.
 */
export function referenceImageFetcher(rules: ReferenceImageFetchRules): FetchReferenceImage {
  return async (url, maxBytes) => {
    const file = await fetchUserFile(url, { ...rules, maxBytes });
    if (!file.ok) throw new ReferenceImageUnavailable(`reference image ${file.detail}`, file.tooLarge);
    // The bytes' own type: a host may serve an image as binary/octet-stream (S3's default), which a
    // provider refuses as a MIME type. Bytes that are no image (the file changed since validation) are refused.
    const image = sniffImage(file.body);
    if (!image) throw new ReferenceImageUnavailable('reference image is no longer a PNG, JPEG or WebP image (it changed since the job was validated)');
    return `data:${image.contentType};base64,${file.body.toString('base64')}`;
  };
}
