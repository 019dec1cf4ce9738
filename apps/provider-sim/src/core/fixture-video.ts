import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
let cached: Promise<Buffer> | undefined;

/**
 * A real, playable 2 s 320x180 H.264 MP4, rendered once per machine with the ffmpeg shipped in
 * @ffmpeg-installer/ffmpeg and cached in the temp dir.
 */
export function fixtureVideo(): Promise<Buffer> {
  cached ??= render().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

async function render(): Promise<Buffer> {
  const file = join(tmpdir(), 'reelay-provider-sim-fixture-v1.mp4');
  if (existsSync(file)) return readFileSync(file);
  const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  const partial = `${file}.${process.pid}.${Date.now()}.part.mp4`;
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=24:duration=2',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-movflags', '+faststart',
    partial,
  ]);
  renameSync(partial, file);
  return readFileSync(file);
}
