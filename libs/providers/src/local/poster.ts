import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFfmpegPath } from './render';
import { FfmpegFailedError, runFfmpeg } from './run-ffmpeg';

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
  const work = await mkdtemp(join(tmpdir(), 'reelay-poster-'));
  try {
    const out = join(work, 'poster.webp');
    const scale = `scale='min(${POSTER_MAX_SIDE},iw)':'min(${POSTER_MAX_SIDE},ih)':force_original_aspect_ratio=decrease`;
    await runFfmpeg(
      options.ffmpegPath ?? defaultFfmpegPath(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-protocol_whitelist', 'file', '-f', 'mov', '-ss', String(posterTime(durationSeconds)), '-i', videoFile,
        '-map', '0:v:0', '-frames:v', '1', '-vf', scale, '-c:v', 'libwebp', '-quality', '80', '-f', 'webp', '-y', out],
      { signal: options.signal, abortedMessage: 'poster aborted' },
    );
    const image = await readFile(out).catch(() => Buffer.alloc(0));
    // ffmpeg ends well when the seek passed the last frame, and then writes nothing.
    if (image.length === 0) throw new FfmpegFailedError('ffmpeg found no frame to make a poster of');
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
