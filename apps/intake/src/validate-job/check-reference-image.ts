import type { JobErrorCode, ReferenceImage } from '@reelay/contracts';
import { sniffImage, type ImageInfo } from '@reelay/media';
import { fetchUserFile } from '@reelay/net-guard';
import { assetKey, type BlobStorage } from '@reelay/storage';
import type { ValidatedImage } from '@reelay/job-domain';

/** The copy of a reference image fitted to the model (see fit-reference-image). */
export type FittedImage = NonNullable<NonNullable<ValidatedImage>['fitted']>;

export interface ImageRules {
  maxBytes: number;
  timeoutMs: number;
  minSide: number;
  maxSide: number;
  allowHosts: string[];
}

export type ImageCheck =
  | { ok: true; image: ImageInfo & { bytes: number; fitted?: FittedImage }; data: Buffer }
  | { ok: false; errorCode: JobErrorCode; message: string | null; detail: string };

/** What JobValidated records of a checked image (its fields only: what sniffing read besides stays here). */
export function validatedImage({ contentType, bytes, width, height, fitted }: (ImageCheck & { ok: true })['image']): NonNullable<ValidatedImage> {
  return { contentType, bytes, width, height, ...(fitted ? { fitted } : {}) };
}

export const fail = (errorCode: JobErrorCode, detail: string, message: string | null = null): ImageCheck => ({ ok: false, errorCode, message, detail });

const tooLarge = (rules: ImageRules) => fail('validation_failed', 'reference image too large', `The reference image must be at most ${Math.floor(rules.maxBytes / 1048576)} MB.`);

/** Reads the reference image (an upload of this user, or a URL fetched without SSRF exposure) and checks it. */
export async function checkReferenceImage(ref: ReferenceImage, userId: string, storage: BlobStorage, rules: ImageRules): Promise<ImageCheck> {
  let bytes: Buffer;
  if ('assetId' in ref) {
    const info = await storage.stat(assetKey(ref.assetId));
    if (!info || info.metadata.userId !== userId) return fail('asset_fetch_failed', `asset ${ref.assetId} not found for this user`);
    bytes = await storage.read(assetKey(ref.assetId));
  } else {
    const file = await fetchUserFile(ref.url, rules);
    if (!file.ok) return file.tooLarge ? tooLarge(rules) : fail('asset_fetch_failed', `reference image ${file.detail}`);
    bytes = file.body;
  }
  if (bytes.length > rules.maxBytes) return tooLarge(rules);
  const image = sniffImage(bytes);
  if (!image) return fail('validation_failed', 'reference image is not png/jpeg/webp', 'The reference image must be a PNG, JPEG or WebP image.');
  const { width, height } = image;
  if (Math.min(width, height) < rules.minSide || Math.max(width, height) > rules.maxSide) {
    return fail(
      'validation_failed',
      `reference image is ${width}x${height}`,
      `The reference image must be between ${rules.minSide} and ${rules.maxSide} pixels on each side.`,
    );
  }
  return { ok: true, image: { ...image, bytes: bytes.length }, data: bytes };
}
