import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { extractPoster, posterTime } from './poster';
import { FfmpegFailedError } from './run-ffmpeg';
import { renderVideo } from './render';

// Each case runs ffmpeg; with the unit tier's workers sharing 2 cores an encode can pass jest's 5 s default.
jest.setTimeout(30_000);

const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

/** The image's codec and size, as ffprobe reads the bytes back. */
async function probeImage(dir: string, image: Buffer): Promise<{ codec: string; width: number; height: number }> {
  const file = join(dir, `probe-${image.length}.webp`);
  await writeFile(file, image);
  const { stdout } = await promisify(execFile)(ffprobePath, ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
  const [s] = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams;
  return { codec: s!.codec_name, width: s!.width, height: s!.height };
}

describe('extractPoster', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poster-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given a tall 720p video, then the poster is a WebP image with its longer side scaled down to 640', async () => {
    const video = await renderVideo({ prompt: 'a tall one', seed: 1, durationSeconds: 2, aspectRatio: '9:16', resolution: '720p' }, join(dir, 'tall.mp4'), { fontFile: null });
    const poster = await extractPoster(video.file, video.durationSeconds);
    expect(poster.subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(await probeImage(dir, poster)).toEqual({ codec: 'webp', width: 360, height: 640 });
  });

  it('given a video smaller than the limit and shorter than a second, then the poster keeps its size', async () => {
    const video = await renderVideo({ prompt: 'a short one', seed: 2, durationSeconds: 0.5, aspectRatio: '1:1' }, join(dir, 'short.mp4'), { fontFile: null });
    expect(await probeImage(dir, await extractPoster(video.file, video.durationSeconds))).toEqual({ codec: 'webp', width: 360, height: 360 });
  });

  it('given a file that is no video, then it rejects with what ffmpeg said', async () => {
    const bogus = join(dir, 'bogus.mp4');
    await writeFile(bogus, 'not a video at all');
    await expect(extractPoster(bogus, 2)).rejects.toThrow(FfmpegFailedError);
  });

  it('given no ffmpeg where it was told to look, then it rejects with the system error, not as an unreadable file', async () => {
    const video = await renderVideo({ prompt: 'a fox', seed: 4, durationSeconds: 1, aspectRatio: '1:1' }, join(dir, 'fine.mp4'), { fontFile: null });
    const err = await extractPoster(video.file, 1, { ffmpegPath: join(dir, 'no-ffmpeg-here') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT' });
    expect(err).not.toBeInstanceOf(FfmpegFailedError);
  });

  it('takes the still one second in, or halfway through a shorter video, or at the start when the length is unknown', () => {
    expect([posterTime(8), posterTime(1.2), posterTime(0.5), posterTime(null), posterTime(0)]).toEqual([1, 0.6, 0.25, 0, 0]);
  });
});
