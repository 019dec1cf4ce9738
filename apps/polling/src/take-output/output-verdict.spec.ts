import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMp4 } from '@reelay/media';
import { judgeOutput } from './output-verdict';

/** As take-output hands a copied file to the verdict: its size and what was probed while copying. */
const seen = (file: Buffer) => ({ bytes: file.length, probe: probeMp4(file) });

const rules = { minBytes: 1024, maxBytes: 50 * 1024 * 1024 };

function sampleMp4(): Buffer {
  const file = join(tmpdir(), 'reelay-polling-verdict-sample.mp4');
  if (!existsSync(file)) {
    const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=24:duration=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-movflags', '+faststart', file]);
  }
  return readFileSync(file);
}

describe('judgeOutput', () => {
  const mp4 = sampleMp4();

  it('accepts an MP4 served as video/mp4, with its duration and size', () => {
    expect(judgeOutput(seen(mp4), 'video/mp4', rules)).toEqual({ ok: true, contentType: 'video/mp4', durationSeconds: 1, width: 320, height: 180 });
  });

  it('accepts an MP4 served as octet-stream (object storage) by its bytes', () => {
    expect(judgeOutput(seen(mp4), 'application/octet-stream', rules).ok).toBe(true);
    expect(judgeOutput(seen(mp4), null, rules).ok).toBe(true);
  });

  it('refuses empty, tiny, oversized, non-video and unreadable outputs', () => {
    expect(judgeOutput(seen(Buffer.alloc(0)), 'video/mp4', rules)).toEqual({ ok: false, reason: 'output is empty' });
    expect(judgeOutput(seen(mp4.subarray(0, 100)), 'video/mp4', rules).ok).toBe(false);
    expect(judgeOutput(seen(mp4), 'video/mp4', { ...rules, maxBytes: 1000 }).ok).toBe(false);
    expect(judgeOutput(seen(mp4), 'text/html; charset=utf-8', rules)).toMatchObject({ ok: false, reason: expect.stringContaining('text/html') });
    expect(judgeOutput(seen(Buffer.alloc(4096, 1)), 'video/mp4', rules)).toEqual({ ok: false, reason: 'output is not a readable MP4' });
  });
});
