import type { Catalog } from '@reelay/catalog';
import type { AspectRatio, ReferenceImage } from '@reelay/contracts';
import { shownSize, sniffImage } from '@reelay/media';
import { Semaphore } from '@reelay/messaging';
import { FfmpegFailedError, fitImage, type FittableImageType, type ImageFitSteps } from '@reelay/providers';
import { storeUserImage, type BlobStorage } from '@reelay/storage';
import type { ImageFitOutcome, IntakeMetrics } from '../shared/intake-metrics';
import { fail, type ImageCheck } from './check-reference-image';

/** Makes the image after `steps` (ffmpeg in production, one at a time: see main). */
export type FitImage = (data: Buffer, contentType: FittableImageType, steps: ImageFitSteps) => Promise<Buffer>;

export interface ImageFitDeps {
  catalog: Pick<Catalog, 'imageFit' | 'imageProblem'>;
  storage: BlobStorage;
  fitImage: FitImage;
  /** The largest image reelay keeps (ASSET_MAX_BYTES): a fitted one is held to it too. */
  maxBytes: number;
  metrics?: Pick<IntakeMetrics, 'imageFits' | 'imageFitSeconds'>;
}

interface JobImageContext {
  userId: string;
  model: string;
  aspectRatio: AspectRatio;
  referenceImage: ReferenceImage | null;
}

/**
 * The most pixels an image may have to be fitted. ffmpeg holds the decoded image and the scaled one
 * in memory together (4 bytes a pixel each, and more while scaling): 25 MP stays near 250 MB, within
 * what an intake pod may use; an 8192x8192 image needed over 550 MB.
 */
export const MAX_FIT_PIXELS = 25_000_000;

/**
 * The checked image as the job's model takes it. One outside the model's limits is fitted (the
 * catalog says how: scaled, and center-cropped when its shape is out of bounds), an uploaded photo
 * whose EXIF says to show it turned is turned upright (else a provider that ignores EXIF makes a
 * sideways video), and the copy is stored as an image of the job's user and named in the result as
 * `fitted`; providers are sent that one. The copy's id comes from its bytes, so a redelivered
 * validation stores the same asset again rather than another. An image ffmpeg cannot read fails
 * validation; a missing ffmpeg, a full disk or an ffmpeg killed for its memory throws (the host's
 * trouble: the delivery is tried again).
 */
export async function fitToModel(check: ImageCheck, job: JobImageContext, deps: ImageFitDeps): Promise<ImageCheck> {
  if (!check.ok) return check;
  const { width, height, contentType, orientation } = check.image;
  const shown = shownSize(check.image);
  const needed = deps.catalog.imageFit(job.model, job.aspectRatio, shown.width, shown.height);
  const tooLarge = width * height > MAX_FIT_PIXELS;
  const counted = (outcome: ImageFitOutcome, check: ImageCheck) => {
    deps.metrics?.imageFits.inc({ outcome });
    return check;
  };
  if (needed && tooLarge) {
    const megapixels = Math.floor(MAX_FIT_PIXELS / 1_000_000);
    return counted('too_large', fail('validation_failed', `reference image ${width}x${height} is too large to fit to ${job.model}`, `The reference image is ${width}x${height}; ${job.model} needs it changed, which reelay does for images of up to ${megapixels} megapixels.`));
  }
  // Only an upload is turned when nothing else needs changing: a URL goes on to the provider as a URL
  // (which a provider taking links only, Luma, needs when no asset links are set up), EXIF and all,
  // as does an image too large to fit. Unless the model's size rule refuses the size it is stored
  // at: a provider that ignores EXIF (Sora's exact sizes) judges that one, and would refuse it.
  const uploaded = job.referenceImage !== null && 'assetId' in job.referenceImage;
  const storedRefused = orientation !== undefined && deps.catalog.imageProblem(job.model, job.aspectRatio, width, height) !== null;
  const steps = needed ?? (orientation && (uploaded || storedRefused) && !tooLarge ? { crop: null, ...shown } : null);
  if (!steps) return suitsModel(check, job, deps, shown);
  let data: Buffer;
  const timer = deps.metrics?.imageFitSeconds.startTimer();
  try {
    data = await deps.fitImage(check.data, contentType, { ...steps, ...(orientation ? { orientation } : {}) });
  } catch (err) {
    if (!(err instanceof FfmpegFailedError)) throw err;
    return counted('unreadable', fail('validation_failed', `reference image could not be fitted to ${job.model}: ${err.message}`, 'The reference image could not be read.'));
  } finally {
    timer?.();
  }
  const fitted = sniffImage(data);
  if (!fitted || fitted.width !== steps.width || fitted.height !== steps.height) {
    const made = fitted ? `${fitted.width}x${fitted.height}` : 'no readable image';
    return counted('unreadable', fail('validation_failed', `fitting a ${width}x${height} image to ${job.model} made ${made}, not ${steps.width}x${steps.height}`, 'The reference image could not be read.'));
  }
  if (data.length > deps.maxBytes) {
    return counted('over_bytes', fail('validation_failed', `reference image fitted to ${job.model} is ${data.length} bytes`, `The reference image, fitted to ${job.model}, would be over ${Math.floor(deps.maxBytes / 1048576)} MB.`));
  }
  const assetId = await storeUserImage(deps.storage, job.userId, data, fitted);
  deps.metrics?.imageFits.inc({ outcome: 'fitted' });
  const result: ImageCheck = {
    ok: true,
    image: { ...check.image, fitted: { assetId, contentType: fitted.contentType, bytes: data.length, width: fitted.width, height: fitted.height, cropped: steps.crop !== null } },
    data,
  };
  return suitsModel(result, job, deps, fitted);
}

/** A failure saying why, when the image (or its fitted copy) is still outside what the model takes. */
function suitsModel(check: ImageCheck & { ok: true }, job: JobImageContext, deps: ImageFitDeps, sent: { width: number; height: number }): ImageCheck {
  const problem = deps.catalog.imageProblem(job.model, job.aspectRatio, sent.width, sent.height);
  return problem ? fail('validation_failed', `reference image ${sent.width}x${sent.height} is outside ${job.model}'s limits`, problem) : check;
}

/** How long one fit may take before the image is given up on (25 MP took about a second here). */
const FIT_TIMEOUT_MS = 60_000;
/**
 * How long a fit waits for its turn: past it the host is too busy, and the delivery is tried again
 * later (well within the consumer's 10 minutes per message, so it is not redelivered while it waits).
 */
const TURN_WAIT_MS = 4 * 60_000;

/**
 * Fits with the bundled ffmpeg (or FFMPEG_PATH), `maxConcurrent` at once: a validation consumer takes
 * many jobs together, and each fit is a process of its own competing with the service for the cores
 * and memory. A fit that outlasts FIT_TIMEOUT_MS is killed and counted as the image's fault (like an
 * image ffmpeg cannot read), so one image cannot hold a place for good or be tried again forever.
 */
export function ffmpegImageFitter(maxConcurrent: number): FitImage {
  const slots = new Semaphore(maxConcurrent);
  return async (data, contentType, steps) => {
    await slots.acquire(AbortSignal.timeout(TURN_WAIT_MS)).catch(() => Promise.reject(new Error(`no turn to fit a reference image within ${TURN_WAIT_MS / 60_000} min`)));
    const signal = AbortSignal.timeout(FIT_TIMEOUT_MS);
    try {
      return await fitImage(data, contentType, steps, { signal, maxPixels: MAX_FIT_PIXELS });
    } catch (err) {
      if (signal.aborted) throw new FfmpegFailedError(`the fit took longer than ${FIT_TIMEOUT_MS / 1000} s`);
      throw err;
    } finally {
      slots.release();
    }
  };
}
