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
