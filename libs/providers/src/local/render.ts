import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runFfmpeg } from './run-ffmpeg';

export type RenderAspectRatio = '16:9' | '9:16' | '1:1';
export type RenderResolution = '480p' | '720p' | '1080p';

export interface RenderSpec {
  prompt: string;
  seed?: number | null;
  durationSeconds: number;
  aspectRatio: RenderAspectRatio;
  /** null/undefined renders a small 360p draft (fast on shared machines). */
  resolution?: RenderResolution | null;
  /** Adds a silent AAC track, for players that expect one. */
  audio?: boolean;
}

export interface RenderResult {
  file: string;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
  durationSeconds: number;
}

export interface RenderOptions {
  ffmpegPath?: string;
  /** A .ttf for the caption; auto-detected, and captions are skipped when no font exists. */
  fontFile?: string | null;
  signal?: AbortSignal;
  /** Called with 0..100 while ffmpeg encodes. */
  onProgress?: (percent: number) => void;
}

export const RENDER_FPS = 24;
const SHORT_SIDE: Record<RenderResolution | 'draft', number> = { draft: 360, '480p': 480, '720p': 720, '1080p': 1080 };
// Sources are generated at draft size and scaled, so 1080p costs little more than 360p.
const SOURCE_SHORT_SIDE = 360;
const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

const even = (n: number) => 2 * Math.round(n / 2);

export function renderDimensions(aspectRatio: RenderAspectRatio, resolution?: RenderResolution | null, shortSide?: number) {
  const short = shortSide ?? SHORT_SIDE[resolution ?? 'draft'];
  const long = even((short * 16) / 9);
  if (aspectRatio === '16:9') return { width: long, height: short };
  if (aspectRatio === '9:16') return { width: short, height: long };
  return { width: short, height: short };
}

/** Content key of a render: equal specs give equal keys (and, with the same ffmpeg, equal bytes). */
export function renderKey(spec: RenderSpec): string {
  const canonical = JSON.stringify([
    spec.prompt,
    spec.seed ?? 0,
    spec.durationSeconds,
    spec.aspectRatio,
    spec.resolution ?? null,
    spec.audio === true,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export function defaultFfmpegPath(): string {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export function findFont(): string | null {
  const configured = process.env.LOCAL_RENDER_FONT;
  if (configured) return existsSync(configured) ? configured : null;
  return FONT_CANDIDATES.find((f) => existsSync(f)) ?? null;
}

/** The look of a video, derived only from prompt and seed. */
export function renderLook(prompt: string, seed: number | null | undefined) {
  const h = createHash('sha256').update(`${seed ?? 0}\n${prompt}`).digest();
  const u32 = (i: number) => h.readUInt32BE(i);
  const hex = (i: number) => h.subarray(i, i + 3).toString('hex');
  const { width: sw, height: sh } = renderDimensions('16:9', null, SOURCE_SHORT_SIDE);
  const size = `${sw}x${sh}`;
  const sources = [
    `testsrc2=s=${size}:r=${RENDER_FPS}`,
    `mandelbrot=s=${size}:r=${RENDER_FPS}:start_scale=${(1 + (u32(4) % 300) / 100).toFixed(2)}:end_scale=${(0.05 + (u32(8) % 50) / 1000).toFixed(3)}`,
    `life=s=${even(sw / 2)}x${even(sh / 2)}:r=${RENDER_FPS}:seed=${u32(4)}:ratio=0.${10 + (u32(8) % 50)}:mold=${u32(12) % 20}:life_color=0x${hex(16)}:death_color=0x${hex(19)}:mold_color=0x${hex(22)}`,
    `cellauto=s=${size}:r=${RENDER_FPS}:rule=${[30, 45, 73, 90, 105, 110, 126, 150][u32(4) % 8]}:seed=${u32(8)}:random_fill_ratio=0.${10 + (u32(12) % 80)}`,
  ];
  return {
    source: sources[h[0] % sources.length],
    hueDegrees: u32(26) % 360,
    saturation: (0.8 + (h[30] % 100) / 100).toFixed(2),
    textColor: `0x${hex(16)}`,
    id: h.subarray(0, 4).toString('hex'),
  };
}

/** ffmpeg arguments for a spec; `textFile` holds the caption (read by drawtext, so no escaping). */
export function ffmpegArgs(spec: RenderSpec, out: string, textFile: string | null, fontFile: string | null): string[] {
  const { width, height } = renderDimensions(spec.aspectRatio, spec.resolution);
  const look = renderLook(spec.prompt, spec.seed);
  const fontSize = Math.max(14, Math.round(Math.min(width, height) / 18));
  const filters = [
    `scale=${width}:${height}:flags=bicubic`,
    'setsar=1',
    `hue=h=${look.hueDegrees}:s=${look.saturation}`,
  ];
  if (textFile && fontFile) {
    filters.push(
      `drawtext=fontfile='${fontFile}':textfile='${textFile}':expansion=none:fontsize=${fontSize}:fontcolor=white:` +
        `box=1:boxcolor=black@0.55:boxborderw=${Math.round(fontSize / 3)}:x=w-mod(t*${Math.round(width / 4)}\\,w+tw):y=h-th-${fontSize * 2}`,
    );
  }
  filters.push('format=yuv420p');
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-y', '-f', 'lavfi', '-i', look.source];
  if (spec.audio) args.push('-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo');
  args.push('-t', String(spec.durationSeconds), '-vf', filters.join(','), '-map', '0:v');
  if (spec.audio) args.push('-map', '1:a', '-c:a', 'aac', '-b:a', '64k', '-flags:a', '+bitexact', '-shortest');
  args.push(
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p', '-r', String(RENDER_FPS),
    // A fixed thread count keeps x264's output identical across machines with different core counts.
    '-threads', '2',
    '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1',
    '-movflags', '+faststart', '-f', 'mp4', out,
  );
  return args;
}

/** Renders `spec` into `outFile`. */
export async function renderVideo(spec: RenderSpec, outFile: string, options: RenderOptions = {}): Promise<RenderResult> {
  if (!(spec.durationSeconds > 0 && spec.durationSeconds <= 120)) throw new RangeError('durationSeconds must be in (0, 120]');
  const fontFile = options.fontFile === undefined ? findFont() : options.fontFile;
  const work = await mkdtemp(join(tmpdir(), 'reelay-render-'));
  try {
    let textFile: string | null = null;
    if (fontFile) {
      textFile = join(work, 'caption.txt');
      const look = renderLook(spec.prompt, spec.seed);
      const caption = spec.prompt.replace(/\s+/g, ' ').trim().slice(0, 80) || '(empty prompt)';
      await writeFile(textFile, `${caption}  ·  seed ${spec.seed ?? 0}  ·  ${look.id}`);
    }
    await mkdir(dirname(outFile), { recursive: true });
    // Rendered next to the target, then renamed: a partial file never appears under the final name.
    const partial = `${outFile}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
    try {
      await runFfmpeg(options.ffmpegPath ?? defaultFfmpegPath(), ffmpegArgs(spec, partial, textFile, fontFile), {
        signal: options.signal,
        abortedMessage: 'render aborted',
        onLine: (line) => {
          const m = /^out_time_(?:ms|us)=(\d+)/.exec(line);
          if (m && options.onProgress) options.onProgress(Math.min(99, Math.floor((Number(m[1]) / 1e6 / spec.durationSeconds) * 100)));
        },
      });
      await rename(partial, outFile);
    } finally {
      await rm(partial, { force: true });
    }
    const bytes = await readFile(outFile);
    const { width, height } = renderDimensions(spec.aspectRatio, spec.resolution);
    return {
      file: outFile,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      width,
      height,
      durationSeconds: Math.round(spec.durationSeconds * RENDER_FPS) / RENDER_FPS,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
