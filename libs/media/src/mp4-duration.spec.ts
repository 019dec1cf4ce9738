import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_KEPT_BYTES, Mp4Scanner } from './mp4-scanner';
import { probeMp4 } from './probe-mp4';
import { box, ftyp, fullBox, mehd, mvhd, TFHD, tfhd, trak, TRUN, trun, trex, UNKNOWN, u32, type TrackSpec } from './test-support/mp4-boxes';

const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
const dir = mkdtempSync(join(tmpdir(), 'reelay-mp4-duration-'));

type Version = 0 | 1;
const mdat = box('mdat', Buffer.alloc(64));

/** A moov of a movie timed in ms, its video track (id 1) in 1024ths of a second; `mvex` makes it fragmented. */
function moov(version: Version, duration: number | bigint, track: Partial<TrackSpec> = {}, mvex: Buffer[] = []): Buffer {
  const video = trak({ version, id: 1, duration: 0, mediaTimescale: 1024, mediaDuration: 0, ...track });
  return box('moov', mvhd(version, 1000, duration), video, ...(mvex.length ? [box('mvex', ...mvex)] : []));
}

/** A file whose video is in an mdat its track's one chunk points at, the moov last. */
function plain(version: Version, duration: number | bigint, track: Partial<TrackSpec>): Buffer {
  return Buffer.concat([ftyp, mdat, moov(version, duration, { ...track, chunks: [ftyp.length + 8] })]);
}

function scan(file: Buffer, chunkSize: number) {
  const scanner = new Mp4Scanner();
  for (let at = 0; at < file.length; at += chunkSize) scanner.feed(file.subarray(at, at + chunkSize));
  return scanner.result();
}

/** Fragments of the video track adding up to 6144 (6 s), and an audio track's that must not count. */
const moofs = [
  box('moof', box('traf', tfhd(2, TFHD.defaultDuration, 999), trun(0, 50)), box('traf', tfhd(1, TFHD.baseDataOffset | TFHD.sampleDescriptionIndex), trun(TRUN.dataOffset | TRUN.firstSampleFlags | TRUN.duration | TRUN.size, 3, [512, 512, 1024]))),
  box('moof', box('traf', tfhd(1, TFHD.baseDataOffset | TFHD.defaultDuration, 512), trun(TRUN.size, 2), trun(0, 2))),
  box('moof', box('traf', tfhd(1, 0), trun(0, 8))), // trex's default: 256
];
const trexes = [trex(2, 1000), trex(1, 256)];
const withFragments = (head: Buffer) => Buffer.concat([ftyp, head, ...moofs.flatMap((moof) => [moof, mdat])]);

describe('the duration of an MP4', () => {
  describe('an mvhd duration of all ones is unknown, not 50 days or 584 million years', () => {
    it.each([0, 1] as const)('version %i: the video track says it, in its mdhd, else in its tkhd', (version) => {
      expect(probeMp4(plain(version, UNKNOWN[version], { mediaDuration: 2048 }))).toEqual({ durationSeconds: 2, width: 320, height: 180 });
      expect(probeMp4(plain(version, UNKNOWN[version], { mediaDuration: UNKNOWN[version], duration: 3000 }))).toMatchObject({ durationSeconds: 3 });
    });

    it.each([0, 1] as const)('version %i: with nothing else saying it, it is read as a zero duration is (output custody refuses both)', (version) => {
      const unknown = probeMp4(plain(version, UNKNOWN[version], { mediaDuration: UNKNOWN[version], duration: UNKNOWN[version] }));
      expect(unknown).toEqual({ durationSeconds: 0, width: 320, height: 180 });
      expect(unknown).toEqual(probeMp4(plain(version, 0, {})));
    });
  });

  describe('a fragmented MP4 (its media in moof/mdat pairs, its mvhd duration often 0)', () => {
    it.each([0, 1] as const)("takes mvex/mehd's whole duration (version %i), in the movie's timescale", (version) => {
      expect(probeMp4(withFragments(moov(version, 0, {}, [mehd(version, 4500), ...trexes])))).toEqual({ durationSeconds: 4.5, width: 320, height: 180 });
    });

    it("else sums its video track's samples over the moofs as they stream past: trun's durations, else tfhd's default, else trex's", () => {
      const file = withFragments(moov(0, 0, {}, trexes));
      for (const size of [1, 5, 64, file.length]) expect(scan(file, size)).toEqual({ durationSeconds: 6, width: 320, height: 180 });
    });

    it('sums them too when its mvhd duration is unknown and its track gives none', () => {
      expect(probeMp4(withFragments(moov(1, UNKNOWN[1], {}, trexes)))).toMatchObject({ durationSeconds: 6 });
    });

    describe('as ffmpeg writes one', () => {
      const render = (file: string, movflags: string) => {
        execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-g', '12', '-movflags', movflags, join(dir, file)]);
        return readFileSync(join(dir, file));
      };

      it('all its samples in fragments', () => {
        expect(probeMp4(render('empty-moov.mp4', 'frag_keyframe+empty_moov'))).toEqual({ durationSeconds: 2, width: 320, height: 180 });
      });

      it("the first fragment's samples in its moov, whose mvhd says only their 0.5 s", () => {
        expect(probeMp4(render('first-in-moov.mp4', 'frag_keyframe'))).toEqual({ durationSeconds: 2, width: 320, height: 180 });
      });
    });

    it('says what its moov says when its fragments claim more than a day (a sample count and default duration of all ones)', () => {
      // Written by hand: trun() would build the four billion samples it names.
      const claims = box('moof', box('traf', tfhd(1, TFHD.defaultDuration, 0xffffffff), fullBox('trun', 0, 0, u32(0xffffffff))));
      expect(probeMp4(Buffer.concat([ftyp, moov(0, 0, {}, trexes), moofs[1], mdat, claims, mdat]))).toMatchObject({ durationSeconds: 0 });
    });

    it('says what its moov says when its fragments cannot all be read: a moof before the moov, or one too large to keep', () => {
      const head = moov(0, 0, {}, trexes);
      expect(probeMp4(Buffer.concat([ftyp, moofs[0], mdat, head, moofs[1], mdat]))).toMatchObject({ durationSeconds: 0 });
      const scanner = new Mp4Scanner();
      scanner.feed(Buffer.concat([ftyp, head, moofs[1], mdat]));
      const huge = box('moof', moofs[2].subarray(8));
      huge.writeUInt32BE(MAX_KEPT_BYTES.moof + 1, 0);
      scanner.feed(huge);
      const padding = Buffer.alloc(1024 * 1024);
      for (let left = MAX_KEPT_BYTES.moof + 1 - huge.length; left > 0; left -= padding.length) scanner.feed(padding.subarray(0, Math.min(left, padding.length)));
      scanner.feed(mdat);
      expect([scanner.result(), scanner.cutShort()]).toEqual([{ durationSeconds: 0, width: 320, height: 180 }, false]);
    });
  });
});
