import type { Catalog } from '@reelay/catalog';
import type { AspectRatio } from '@reelay/contracts';
import { sniffImage } from '@reelay/media';
import { Semaphore } from '@reelay/messaging';
import { FfmpegFailedError, fitImage, type FittableImageType, type ImageFitSteps } from '@reelay/providers';
import { storeUserImage, type BlobStorage } from '@reelay/storage';
import { fail, type ImageCheck } from './check-reference-image';

/** Makes the image after `steps` (ffmpeg in production; at most a few at once: see main). */
export type FitImage = (data: Buffer, contentType: FittableImageType, steps: ImageFitSteps) => Promise<Buffer>;

export interface ImageFitDeps {
  catalog: Pick<Catalog, 'imageFit' | 'imageProblem'>;
  storage: BlobStorage;
  fitImage: FitImage;
  /** The largest image reelay keeps (ASSET_MAX_BYTES): a fitted one is held to it too. */
  maxBytes: number;
}

interface JobImageContext {
  userId: string;
  model: string;
  aspectRatio: AspectRatio;
}

/**
 * The checked image as the job's model takes it. One outside the model's limits is fitted (the
 * catalog says how: scaled, and center-cropped when its shape is out of bounds), stored as an image of
 * the job's user, and named in the result as `fitted`; providers are sent that one. The copy's id
 * comes from its bytes, so a redelivered validation stores the same asset again rather than another.
 * An image ffmpeg cannot read fails validation; a missing ffmpeg or a full disk throws (the host's
 * trouble: the delivery is tried again).
 */
export async function fitToModel(check: ImageCheck, job: JobImageContext, deps: ImageFitDeps): Promise<ImageCheck> {
  if (!check.ok) return check;
  const { width, height, contentType } = check.image;
  const steps = deps.catalog.imageFit(job.model, job.aspectRatio, width, height);
  if (!steps) return suitsModel(check, job, deps);
  let data: Buffer;
  try {
    data = await deps.fitImage(check.data, contentType, steps);
  } catch (err) {
    if (!(err instanceof FfmpegFailedError)) throw err;
    return fail('validation_failed', `reference image could not be decoded to fit ${job.model}: ${err.message}`, 'The reference image could not be read.');
  }
  const fitted = sniffImage(data);
  if (!fitted || fitted.width !== steps.width || fitted.height !== steps.height) {
    throw new Error(`fitting a ${width}x${height} image for ${job.model} made ${fitted ? `${fitted.width}x${fitted.height}` : 'no readable image'}, not ${steps.width}x${steps.height}`);
  }
  if (data.length > deps.maxBytes) {
    return fail('validation_failed', `reference image fitted to ${job.model} is ${data.length} bytes`, `The reference image, fitted to ${job.model}, would be over ${Math.floor(deps.maxBytes / 1048576)} MB.`);
  }
  const assetId = await storeUserImage(deps.storage, job.userId, data, fitted);
  const result: ImageCheck = {
    ok: true,
    image: { ...check.image, fitted: { assetId, contentType: fitted.contentType, bytes: data.length, width: fitted.width, height: fitted.height, cropped: steps.crop !== null } },
    data,
  };
  return suitsModel(result, job, deps, fitted);
}

/** A failure saying why, when the image (or its fitted copy) is still outside what the model takes. */
function suitsModel(check: ImageCheck & { ok: true }, job: JobImageContext, deps: ImageFitDeps, sent: { width: number; height: number } = check.image): ImageCheck {
  const problem = deps.catalog.imageProblem(job.model, sent.width, sent.height, job.aspectRatio);
  return problem ? fail('validation_failed', `reference image ${sent.width}x${sent.height} is outside ${job.model}'s limits`, problem) : check;
}

/**
 * Fits with the bundled ffmpeg (or FFMPEG_PATH), `maxConcurrent` at once: a validation consumer takes
 * many jobs together, and each fit is a process of its own competing with the service for the cores.
 */
export function ffmpegImageFitter(maxConcurrent: number): FitImage {
  const slots = new Semaphore(maxConcurrent);
  return async (data, contentType, steps) => {
    await slots.acquire();
    try {
      return await fitImage(data, contentType, steps);
    } finally {
      slots.release();
    }
  };
}
