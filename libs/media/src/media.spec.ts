import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMp4 } from './probe-mp4';
import { webpWithCanvas, withExifOrientation } from '@reelay/testing';
import { shownSize, sniffImage } from './sniff-image';

const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
const dir = mkdtempSync(join(tmpdir(), 'reelay-media-'));

function render(args: string[], file: string): Buffer {
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, join(dir, file)]);
  return readFileSync(join(dir, file));
}

describe('media probes', () => {
  it.each([
    ['png', 'image/png'],
    ['jpg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ])('reads type and size of a real %s', (ext, type) => {
    const img = render(['-f', 'lavfi', '-i', 'color=c=red:s=322x124', '-frames:v', '1'], `a.${ext}`);
    expect(sniffImage(img)).toEqual({ contentType: type, width: 322, height: 124 });
  });
  it('reads an extended WebP (alpha: VP8X, ALPH, VP8) at its size, and refuses one whose header claims another size than its picture', () => {
    const withAlpha = render(['-f', 'lavfi', '-i', 'color=c=red@0.5:s=322x124,format=rgba', '-frames:v', '1'], 'alpha.webp');
    expect(withAlpha.toString('latin1', 12, 16)).toBe('VP8X');
    expect(sniffImage(withAlpha)).toEqual({ contentType: 'image/webp', width: 322, height: 124 });
    const simple = render(['-f', 'lavfi', '-i', 'color=c=red:s=1600x1200', '-frames:v', '1'], 'big.webp');
    expect(sniffImage(webpWithCanvas(simple, 1600, 1200))).toEqual({ contentType: 'image/webp', width: 1600, height: 1200 });
    expect(sniffImage(webpWithCanvas(simple, 400, 300))).toBeNull();
  });
  it("reads a JPEG's EXIF orientation, and the size it is shown at: a quarter turn swaps the sides", () => {
    const jpeg = render(['-f', 'lavfi', '-i', 'color=c=red:s=400x300', '-frames:v', '1'], 'b.jpg');
    const upright = sniffImage(withExifOrientation(jpeg, 6))!;
    expect(upright).toEqual({ contentType: 'image/jpeg', width: 400, height: 300, orientation: 6 });
    expect(shownSize(upright)).toEqual({ width: 300, height: 400 });
    expect(shownSize(sniffImage(withExifOrientation(jpeg, 3))!)).toEqual({ width: 400, height: 300 });
    // Orientation 1 (as stored) is no orientation; an IFD pointing past its block is ignored, not read past.
    expect(sniffImage(withExifOrientation(jpeg, 1))).toEqual({ contentType: 'image/jpeg', width: 400, height: 300 });
    const pointingOut = withExifOrientation(jpeg, 6);
    pointingOut.writeUInt32BE(0xffff, 16);
    expect(sniffImage(pointingOut)).toEqual({ contentType: 'image/jpeg', width: 400, height: 300 });
  });
  it('refuses bytes that are not an image', () => {
    expect(sniffImage(Buffer.from('GIF89a not supported here'))).toBeNull();
    expect(sniffImage(Buffer.from('<html>'))).toBeNull();
  });
  it('reads duration and dimensions of a real MP4', () => {
    const mp4 = render(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'], 'a.mp4');
    const info = probeMp4(mp4)!;
    expect(info.width).toBe(320);
    expect(info.height).toBe(180);
    expect(info.durationSeconds).toBeCloseTo(2, 1);
  });
  it('refuses a file that is not an MP4', () => {
    expect(probeMp4(Buffer.from('not a video at all'))).toBeNull();
  });
});
