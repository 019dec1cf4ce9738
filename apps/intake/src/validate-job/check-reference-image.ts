import type { Catalog } from '@reelay/catalog';
import type { JobErrorCode, ReferenceImage } from '@reelay/contracts';
import { sniffImage } from '@reelay/media';
import { fetchUserFile } from '@reelay/net-guard';
import { assetKey, type BlobStorage } from '@reelay/storage';

export interface ImageRules {
  maxBytes: number;
  timeoutMs: number;
  minSide: number;
  maxSide: number;
  allowHosts: string[];
}

export type ImageCheck =
  | { ok: true; image: { contentType: string; bytes: number; width: number; height: number } }
  | { ok: false; errorCode: JobErrorCode; message: string | null; detail: string };

const fail = (errorCode: JobErrorCode, detail: string, message: string | null = null): ImageCheck => ({ ok: false, errorCode, message, detail });

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
  return { ok: true, image: { contentType: image.contentType, bytes: bytes.length, width, height } };
}

export type ModelImageLimits = Pick<Catalog, 'imageProblem'>;

/** A readable image that the model's providers would still refuse (its size or shape) fails validation, saying why. */
export function suitsModel(check: ImageCheck, catalog: ModelImageLimits, model: string): ImageCheck {
  if (!check.ok) return check;
  const { width, height } = check.image;
  const problem = catalog.imageProblem(model, width, height);
  return problem ? fail('validation_failed', `reference image ${width}x${height} is outside ${model}'s limits`, problem) : check;
}
