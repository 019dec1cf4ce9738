import { createHash } from 'node:crypto';
import { sniffImage, type ImageInfo } from '@reelay/media';
import { ApiException, invalidRequest } from '../errors/api-exception';

export const UPLOAD_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/webp']);

/** Refuses (415) a declared type that is not one of the three image types, before the body is read. */
export function checkDeclaredType(declared: string): void {
  if (!UPLOAD_TYPES.has(declared)) {
    throw new ApiException('unsupported_media_type', 'Upload a PNG, JPEG or WebP image as the raw body with its Content-Type.');
  }
}

/**
 * The image in an upload, by its magic bytes and header (the same reader intake validates with);
 * 415 when the bytes are not a readable image of the declared type.
 */
export function inspectUpload(declared: string, data: Buffer): ImageInfo {
  if (data.length === 0) throw invalidRequest('The upload is empty.');
  const image = sniffImage(data);
  if (!image || image.width <= 0 || image.height <= 0) {
    throw new ApiException('unsupported_media_type', 'The file is not a readable PNG, JPEG or WebP image.');
  }
  if (image.contentType !== declared) throw new ApiException('unsupported_media_type', `The file is a ${image.contentType} image, not ${declared}.`);
  return image;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * An asset's id, from its owner and its bytes: the same image sent again by the same user is the
 * same asset. So a retried submit that carries its image inline (POST /v1/videos with a file or a
 * data: URL) names the same reference image, and its Idempotency-Key replays the job instead of
 * refusing a "different" request; retries store no copies either.
 */
export function assetIdFor(userId: string, data: Buffer): string {
  const digest = createHash('sha256').update(userId).update('\0').update(data).digest();
  return `asset_${Array.from(digest.subarray(0, 24), (byte) => BASE62[byte % 62]).join('')}`;
}
