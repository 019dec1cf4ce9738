import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { withExifOrientation } from '@reelay/testing';
import { Mp4Scanner } from './mp4-scanner';
import { probeMp4 } from './probe-mp4';
import { fragmentTicks } from './read-fragment';
import { readMovie } from './read-movie';
import { sniffImage } from './sniff-image';

const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
const dir = mkdtempSync(join(tmpdir(), 'reelay-hostile-bytes-'));

function render(args: string[], file: string): Buffer {
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, join(dir, file)]);
  return readFileSync(join(dir, file));
}

const video = ['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24:d=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'];
const faststart = render([...video, '-movflags', '+faststart'], 'faststart.mp4');
const moovLast = render(video, 'moov-last.mp4');
const fragmented = render([...video, '-g', '6', '-movflags', 'frag_keyframe+empty_moov'], 'fragmented.mp4');
const still = (ext: string) => render(['-f', 'lavfi', '-i', 'color=c=red:s=64x48', '-frames:v', '1'], `still.${ext}`);
const images = [still('png'), withExifOrientation(still('jpg'), 6), still('webp')];

/** Where a file's first box of `type` starts and ends. */
function topBox(file: Buffer, type: string): { start: number; end: number } {
  for (let at = 0; at < file.length; at += file.readUInt32BE(at)) if (file.toString('latin1', at + 4, at + 8) === type) return { start: at, end: at + file.readUInt32BE(at) };
  throw new Error(`no ${type}`);
}

/** The end of a file's `moov`: mutations before it hit the boxes that are parsed, not the media. */
const moovEnd = (file: Buffer) => topBox(file, 'moov').end;

/** A copy of `file` with some bytes overwritten (in its first `within` bytes) and maybe its tail cut. */
const mutated = (file: Buffer, within = file.length) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.option(fc.nat())).map(([writes, cut]) => {
    const copy = Buffer.from(file);
    for (const [at, byte] of writes) copy[at % within] = byte;
    return cut === null ? copy : copy.subarray(0, cut % (file.length + 1));
  });

const anyBytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));
const ftypFirst = anyBytes.map((rest) => Buffer.concat([faststart.subarray(0, faststart.readUInt32BE(0)), rest]));
const anyMp4 = fc.oneof(anyBytes, ftypFirst, mutated(faststart, moovEnd(faststart)), mutated(moovLast), mutated(faststart), mutated(fragmented));
const chunking = fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 16 });

function scanned(file: Buffer, sizes: number[]) {
  const scanner = new Mp4Scanner();
  for (let at = 0, k = 0; at < file.length; k++) {
    const size = sizes[k % sizes.length];
    scanner.feed(file.subarray(at, at + size));
    at += size;
  }
  return [scanner.result(), scanner.cutShort()];
}

function whole(file: Buffer) {
  const scanner = new Mp4Scanner();
  scanner.feed(file);
  return [scanner.result(), scanner.cutShort()];
}

describe('media probes on hostile bytes', () => {
  it('sniffImage never throws', () => {
    fc.assert(fc.property(fc.oneof(anyBytes, ...images.map((image) => mutated(image))), (bytes) => void sniffImage(bytes)), { numRuns: 500 });
  });

  it('readMovie never throws on a damaged moov (its caller would only hide it)', () => {
    const body = faststart.subarray(32 + 8, moovEnd(faststart));
    expect(faststart.toString('latin1', 36, 40)).toBe('moov');
    fc.assert(fc.property(mutated(body), (moov) => void readMovie(moov)), { numRuns: 500 });
  });

  it('fragmentTicks never throws on a damaged moof', () => {
    const moof = topBox(fragmented, 'moof');
    const body = fragmented.subarray(moof.start + 8, moof.end);
    const video = { id: 1, defaultDuration: 0 };
    expect(fragmentTicks(body, video)).toBeGreaterThan(0);
    fc.assert(fc.property(mutated(body), (damaged) => void fragmentTicks(damaged, video)), { numRuns: 500 });
  });

  it('probeMp4 never throws, and an Mp4Scanner answers the same (result and cut short) however the bytes are chunked', () => {
    fc.assert(
      fc.property(anyMp4, chunking, (bytes, sizes) => {
        const once = whole(bytes);
        expect(once[0]).toEqual(probeMp4(bytes));
        expect(scanned(bytes, sizes)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('an Mp4Scanner reads a valid file as probeMp4 does, whatever the chunking', () => {
    const expected = probeMp4(faststart);
    expect(expected).toMatchObject({ width: 160, height: 90 });
    fc.assert(fc.property(fc.constantFrom(faststart, moovLast), chunking, (file, sizes) => expect(scanned(file, sizes)).toEqual([expected, false])), { numRuns: 200 });
    expect(probeMp4(fragmented)).toEqual({ ...expected, durationSeconds: 1 });
    fc.assert(fc.property(chunking, (sizes) => expect(scanned(fragmented, sizes)).toEqual([probeMp4(fragmented), false])), { numRuns: 100 });
  });
});
