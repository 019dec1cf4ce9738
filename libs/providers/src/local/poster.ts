import { join } from 'node:path';
import { defaultFfmpegPath } from './render';
import { ffmpegOneFile } from './run-ffmpeg';

/** A poster's longer side at most, in pixels: enough for a list or a player's still, small to serve. */
export const POSTER_MAX_SIDE = 640;

export interface PosterOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
}

/** Where the still is taken: one second in, or halfway through a shorter video (the first frame is often black or a fade). */
export function posterTime(durationSeconds: number | null): number {
  if (!durationSeconds || !(durationSeconds > 0)) return 0;
  return Math.min(1, durationSeconds / 2);
}

/**
 * One frame of `videoFile` as a WebP image, scaled down (never up) to POSTER_MAX_SIDE. Rejects with
 * FfmpegFailedError when the file yields no frame; anything else (no ffmpeg, no temp space) is the
 * host's trouble, not the file's. The file is read as MP4 only and may name no other file or URL.
 */
export async function extractPoster(videoFile: string, durationSeconds: number | null, options: PosterOptions = {}): Promise<Buffer> {
  const scale = `scale='min(${POSTER_MAX_SIDE},iw)':'min(${POSTER_MAX_SIDE},ih)':force_original_aspect_ratio=decrease`;
  return ffmpegOneFile(
    options.ffmpegPath ?? defaultFfmpegPath(),
    'reelay-poster-',
    async (work) => {
      const output = join(work, 'poster.webp');
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-protocol_whitelist', 'file', '-f', 'mov', '-ss', String(posterTime(durationSeconds)), '-i', videoFile,
        '-map', '0:v:0', '-frames:v', '1', '-vf', scale, '-c:v', 'libwebp', '-quality', '80', '-f', 'webp', '-y', output];
      return { args, output };
    },
    // ffmpeg ends well when the seek passed the last frame, and then writes nothing.
    { signal: options.signal, abortedMessage: 'poster aborted', nothingMade: 'ffmpeg found no frame to make a poster of' },
  );
}
