import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderDimensions, renderVideo, type RenderSpec } from './render';

const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string; duration?: string }[];
  format: { duration: string; format_name: string };
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await promisify(execFile)(ffprobePath, [
    '-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height,pix_fmt,duration:format=duration,format_name', '-of', 'json', file,
  ]);
  return JSON.parse(stdout) as Probe;
}

/** True when the `moov` box comes before `mdat` (faststart: playable while downloading). */
function isFaststart(bytes: Buffer): boolean {
  return bytes.indexOf('moov') > 0 && bytes.indexOf('moov') < bytes.indexOf('mdat');
}

// Each case runs ffmpeg; with the unit tier's workers sharing 2 cores an encode can pass jest's 5 s default.
jest.setTimeout(30_000);

describe('renderVideo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'render-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const base: RenderSpec = { prompt: 'a red fox running through snow', seed: 7, durationSeconds: 3, aspectRatio: '16:9' };

  it.each([
    ['16:9', null, 640, 360, 2],
    ['9:16', null, 360, 640, 4],
    ['1:1', null, 360, 360, 3.5],
    ['16:9', '720p', 1280, 720, 1],
  ] as const)('renders %s at %s as %dx%d H.264 yuv420p for %ss', async (aspectRatio, resolution, width, height, seconds) => {
    const file = join(dir, `${aspectRatio.replace(':', 'x')}-${resolution}.mp4`);
    const result = await renderVideo({ ...base, aspectRatio, resolution, durationSeconds: seconds }, file);
    const p = await probe(file);
    const video = p.streams.find((s) => s.codec_type === 'video')!;
    expect(video).toMatchObject({ codec_name: 'h264', width, height, pix_fmt: 'yuv420p' });
    expect(Math.abs(Number(p.format.duration) - seconds)).toBeLessThanOrEqual(0.1);
    expect(p.format.format_name).toContain('mp4');
    expect(p.streams.some((s) => s.codec_type === 'audio')).toBe(false);
    expect(result).toMatchObject({ width, height, bytes: (await readFile(file)).length });
    expect(isFaststart(await readFile(file))).toBe(true);
  });

  it('adds a silent AAC track on request without changing the duration', async () => {
    const file = join(dir, 'audio.mp4');
    await renderVideo({ ...base, durationSeconds: 2, audio: true }, file);
    const p = await probe(file);
    expect(p.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Math.abs(Number(p.format.duration) - 2)).toBeLessThanOrEqual(0.1);
  });

  it('gives the same bytes for the same prompt and seed, and different bytes otherwise', async () => {
    const spec = { ...base, durationSeconds: 1 };
    const a = await renderVideo(spec, join(dir, 'a.mp4'));
    const again = await renderVideo(spec, join(dir, 'a-again.mp4'));
    const otherPrompt = await renderVideo({ ...spec, prompt: 'a blue whale under ice' }, join(dir, 'b.mp4'));
    const otherSeed = await renderVideo({ ...spec, seed: 8 }, join(dir, 'c.mp4'));
    expect(again.sha256).toBe(a.sha256);
    expect(otherPrompt.sha256).not.toBe(a.sha256);
    expect(otherSeed.sha256).not.toBe(a.sha256);
  });

  it('renders without a caption when no font is available', async () => {
    const file = join(dir, 'nofont.mp4');
    const result = await renderVideo({ ...base, durationSeconds: 1 }, file, { fontFile: null });
    expect(result.bytes).toBeGreaterThan(0);
    expect(Math.abs(Number((await probe(file)).format.duration) - 1)).toBeLessThanOrEqual(0.1);
  });

  it('rejects durations outside (0, 120] before starting ffmpeg', async () => {
    await expect(renderVideo({ ...base, durationSeconds: 0 }, join(dir, 'zero.mp4'))).rejects.toThrow(RangeError);
  });

  it('stops ffmpeg when aborted and leaves no file behind', async () => {
    const controller = new AbortController();
    const file = join(dir, 'aborted.mp4');
    const pending = renderVideo({ ...base, durationSeconds: 60, resolution: '1080p' }, file, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow('aborted');
    await expect(readFile(file)).rejects.toThrow();
  });

  it('maps aspect ratio and resolution to even dimensions', () => {
    expect(renderDimensions('16:9', '480p')).toEqual({ width: 854, height: 480 });
    expect(renderDimensions('9:16', '1080p')).toEqual({ width: 1080, height: 1920 });
    expect(renderDimensions('1:1', '720p')).toEqual({ width: 720, height: 720 });
  });
});
