import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { webpWithCanvas, withExifOrientation } from '@reelay/testing';
import { fitImage } from './fit-image';
import { defaultFfmpegPath } from './render';
import { FfmpegFailedError } from './run-ffmpeg';

jest.setTimeout(30_000);

const run = promisify(execFile);
const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

describe('fitImage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fit-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A test card of this size in this container, made by ffmpeg. */
  async function imageOf(name: string, width: number, height: number): Promise<Buffer> {
    const file = join(dir, name);
    await run(defaultFfmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=s=${width}x${height}`, '-frames:v', '1', '-y', file]);
    return readFile(file);
  }

  async function probe(image: Buffer): Promise<{ codec: string; width: number; height: number }> {
    const file = join(dir, `probe-${image.length}`);
    await writeFile(file, image);
    const { stdout } = await run(ffprobePath, ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
    const [s] = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams;
    return { codec: s!.codec_name, width: s!.width, height: s!.height };
  }

  it('given a WebP whose picture is larger than the pixels allowed (whatever its header claims), then ffmpeg refuses to decode it', async () => {
    const file = join(dir, 'large.webp');
    await run(defaultFfmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=blue:s=2000x2000', '-frames:v', '1', '-y', file]);
    const crafted = webpWithCanvas(await readFile(file), 500, 500);
    await expect(fitImage(crafted, 'image/webp', { crop: null, width: 100, height: 100 }, { maxPixels: 1_000_000 })).rejects.toBeInstanceOf(FfmpegFailedError);
    expect(await probe(await fitImage(crafted, 'image/webp', { crop: null, width: 100, height: 100 }, { maxPixels: 5_000_000 }))).toMatchObject({ width: 100, height: 100 });
  });

  it('given a 4:3 PNG and a 16:9 crop, then it is a PNG of exactly the size asked for', async () => {
    const fitted = await fitImage(await imageOf('a.png', 800, 600), 'image/png', { crop: { width: 800, height: 450 }, width: 1280, height: 720 });
    expect(await probe(fitted)).toEqual({ codec: 'png', width: 1280, height: 720 });
  });

  it('given a JPEG and a WebP scaled down without a crop, then each keeps its type', async () => {
    const jpeg = await fitImage(await imageOf('b.jpg', 640, 480), 'image/jpeg', { crop: null, width: 320, height: 240 });
    expect(await probe(jpeg)).toEqual({ codec: 'mjpeg', width: 320, height: 240 });
    const webp = await fitImage(await imageOf('c.webp', 640, 480), 'image/webp', { crop: null, width: 400, height: 300 });
    expect(await probe(webp)).toEqual({ codec: 'webp', width: 400, height: 300 });
  });

  it('given a photo whose EXIF says to turn it a quarter clockwise, then the copy is upright: its left half on top', async () => {
    const file = join(dir, 'halves.jpg');
    // White on the left, black on the right, as stored.
    await run(defaultFfmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=white:s=32x32,format=yuvj420p[a];color=c=black:s=32x32,format=yuvj420p[b];[a][b]hstack', '-frames:v', '1', '-y', file]);
    const fitted = await fitImage(withExifOrientation(await readFile(file), 6), 'image/jpeg', { orientation: 6, crop: null, width: 32, height: 64 });
    expect(await probe(fitted)).toEqual({ codec: 'mjpeg', width: 32, height: 64 });
    await writeFile(join(dir, 'upright.jpg'), fitted);
    const { stdout } = await run(defaultFfmpegPath(), ['-loglevel', 'error', '-i', join(dir, 'upright.jpg'), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { encoding: 'buffer' });
    const mean = (rows: Buffer) => rows.reduce((sum, v) => sum + v, 0) / rows.length;
    expect(mean(stdout.subarray(0, 32 * 24))).toBeGreaterThan(200);
    expect(mean(stdout.subarray(32 * 40))).toBeLessThan(50);
  });

  it('given bytes that are not an image of the type named, then it is refused as an unreadable file', async () => {
    await expect(fitImage(Buffer.from('not an image at all'), 'image/png', { crop: null, width: 10, height: 10 })).rejects.toBeInstanceOf(FfmpegFailedError);
    // Read only as the type it was sniffed as: a PNG named a JPEG is not decoded as a PNG.
    await expect(fitImage(await imageOf('d.png', 64, 64), 'image/jpeg', { crop: null, width: 32, height: 32 })).rejects.toBeInstanceOf(FfmpegFailedError);
  });
});
