import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultFfmpegPath } from './render';
import { ffmpegOneFile } from './run-ffmpeg';

export type FittableImageType = 'image/png' | 'image/jpeg' | 'image/webp';

/**
 * Turn the image upright as its EXIF `orientation` says (when given), cut `crop` (when given) out of
 * the middle of the upright image, then scale it to exactly `width`×`height`.
 */
export interface ImageFitSteps {
  orientation?: number;
  crop: { width: number; height: number } | null;
  width: number;
  height: number;
}

export interface FitImageOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /**
   * Pixels ffmpeg decodes at most: an image whose header claims a small size over pixel data far
   * larger (a crafted WebP) fails to decode instead of filling memory.
   */
  maxPixels?: number;
}

/** ffmpeg filters that show an image as its EXIF Orientation says (the re-encoded image keeps no EXIF). */
const UPRIGHT: Record<number, string[]> = {
  2: ['hflip'],
  3: ['hflip', 'vflip'],
  4: ['vflip'],
  5: ['transpose=0'],
  6: ['transpose=1'],
  7: ['transpose=3'],
  8: ['transpose=2'],
};

/** Per type: the only demuxer ffmpeg may read the input with, and how the result is written (same type as the input). */
const FORMATS: Record<FittableImageType, { demuxer: string; encode: string[] }> = {
  'image/png': { demuxer: 'png_pipe', encode: ['-c:v', 'png', '-f', 'image2'] },
  'image/jpeg': { demuxer: 'jpeg_pipe', encode: ['-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2'] },
  'image/webp': { demuxer: 'webp_pipe', encode: ['-c:v', 'libwebp', '-quality', '90', '-f', 'webp'] },
};

/**
 * The image after `steps`, in its own type. Rejects with FfmpegFailedError when ffmpeg cannot read
 * the image; anything else (no ffmpeg, no temp space) is the host's trouble. The input is a user's
 * file, so ffmpeg reads it only as the type it was sniffed as, from a file, naming nothing else.
 */
export async function fitImage(image: Buffer, contentType: FittableImageType, steps: ImageFitSteps, options: FitImageOptions = {}): Promise<Buffer> {
  const format = FORMATS[contentType];
  const filters: string[] = [...(UPRIGHT[steps.orientation ?? 1] ?? [])];
  if (steps.crop) {
    const { width, height } = steps.crop;
    filters.push(`crop=${width}:${height}:(iw-${width})/2:(ih-${height})/2`);
  }
  filters.push(`scale=${steps.width}:${steps.height}:flags=lanczos`, 'setsar=1');
  return ffmpegOneFile(
    options.ffmpegPath ?? defaultFfmpegPath(),
    'reelay-fit-',
    async (work) => {
      const input = join(work, 'in');
      const output = join(work, 'out');
      await writeFile(input, image);
      // One thread: fewer frame buffers in memory, and the service keeps the other core.
      const limit = options.maxPixels ? ['-max_pixels', String(options.maxPixels)] : [];
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-threads', '1', '-protocol_whitelist', 'file', '-noautorotate', ...limit, '-f', format.demuxer, '-i', input,
        '-frames:v', '1', '-vf', filters.join(','), '-threads', '1', ...format.encode, '-y', output];
      return { args, output };
    },
    { signal: options.signal, abortedMessage: 'image fit aborted', nothingMade: 'ffmpeg made no image' },
  );
}
