import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_KEPT_BYTES, Mp4Scanner } from './mp4-scanner';
import { probeMp4 } from './probe-mp4';
import { box, ftyp } from './test-support/mp4-boxes';

const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
const dir = mkdtempSync(join(tmpdir(), 'reelay-mp4-scanner-'));

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2'];
const AUDIO = ['-f', 'lavfi', '-i', 'sine=d=2'];
const H264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'];

function render(file: string, movflags: string[], args = [...VIDEO, ...H264]): Buffer {
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, ...movflags, join(dir, file)]);
  return readFileSync(join(dir, file));
}

function scan(file: Buffer, chunkSize: number) {
  const scanner = new Mp4Scanner();
  for (let at = 0; at < file.length; at += chunkSize) scanner.feed(file.subarray(at, at + chunkSize));
  return scanner.result();
}

/** The top-level boxes of a file: [type, start, size]. */
function boxes(file: Buffer): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let at = 0; at < file.length; at += file.readUInt32BE(at)) out.push([file.toString('latin1', at + 4, at + 8), at, file.readUInt32BE(at)]);
  return out;
}

describe('Mp4Scanner', () => {
  const faststart = render('faststart.mp4', ['-movflags', '+faststart']);
  const moovLast = render('moov-last.mp4', []);

  it('refuses a moov box too large to hold in memory as soon as its header says so', () => {
    const scanner = new Mp4Scanner();
    const moovHeader = Buffer.alloc(8);
    moovHeader.writeUInt32BE(MAX_KEPT_BYTES.moov + 1, 0);
    moovHeader.write('moov', 4, 'latin1');
    scanner.feed(faststart.subarray(0, boxes(faststart)[0]![2]));
    scanner.feed(moovHeader);
    scanner.feed(Buffer.alloc(1024 * 1024));
    expect([scanner.result(), scanner.cutShort()]).toEqual([null, false]);
  });

  it('tells a file cut off in transit from a whole file and from one that is not an MP4', () => {
    const fed = (bytes: Buffer) => {
      const scanner = new Mp4Scanner();
      scanner.feed(bytes);
      return scanner;
    };
    expect(fed(faststart).cutShort()).toBe(false);
    for (const end of [3, 20, Math.floor(faststart.length / 2), faststart.length - 1]) {
      const cut = fed(faststart.subarray(0, end));
      expect([end, cut.result(), cut.cutShort()]).toEqual([end, null, true]);
    }
    expect(fed(Buffer.from('<html><body>Not Found</body></html>')).cutShort()).toBe(false);
  });

  it('reads what probeMp4 reads from the whole file, whatever the chunking, moov first or last', () => {
    const expected = probeMp4(faststart);
    expect(expected).toMatchObject({ width: 320, height: 180 });
    expect(boxes(moovLast).map(([t]) => t).indexOf('moov')).toBeGreaterThan(boxes(moovLast).map(([t]) => t).indexOf('mdat'));
    for (const file of [faststart, moovLast]) {
      for (const size of [1, 7, 13, 4096, file.length]) expect(scan(file, size)).toEqual(expected);
    }
  });

  it('reports the size a video is shown at: a quarter turn in its track matrix swaps the sides', () => {
    const file = Buffer.from(render('turned.mp4', ['-movflags', '+faststart']));
    const tkhd = file.indexOf('tkhd', 0, 'latin1') + 4;
    const matrix = tkhd + (file[tkhd] === 1 ? 52 : 40);
    // [a b u; c d v; x y w] in 16.16: a 90° turn is a=0, b=1, c=-1, d=0.
    file.writeInt32BE(0, matrix);
    file.writeInt32BE(0x10000, matrix + 4);
    file.writeInt32BE(-0x10000, matrix + 12);
    file.writeInt32BE(0, matrix + 16);
    expect(probeMp4(file)).toMatchObject({ width: 180, height: 320 });
    expect(scan(file, 1000)).toMatchObject({ width: 180, height: 320 });
  });

  it('reads a file whose media box has a 64-bit size', () => {
    // ffmpeg leaves an 8-byte `free` before `mdat` for this: the 16-byte header takes both places, so no chunk moves.
    const [free, mdat] = boxes(moovLast).filter(([t]) => t === 'free' || t === 'mdat');
    expect(free[1] + free[2]).toBe(mdat[1]);
    const header = Buffer.alloc(16);
    header.writeUInt32BE(1, 0);
    header.write('mdat', 4, 'latin1');
    header.writeBigUInt64BE(BigInt(16 + mdat[2] - 8), 8);
    const file = Buffer.concat([moovLast.subarray(0, free[1]), header, moovLast.subarray(mdat[1] + 8)]);
    expect(scan(file, 5)).toEqual(probeMp4(faststart));
  });

  it('refuses, without throwing, a moov whose last boxes are too short for their fields', () => {
    const shortMvhd = Buffer.concat([ftyp, box('moov', box('mvhd', Buffer.alloc(8)))]);
    expect(probeMp4(shortMvhd)).toBeNull();
    expect(scan(shortMvhd, 3)).toBeNull();
    const mvhd = Buffer.alloc(20);
    mvhd.writeUInt32BE(1000, 12); // timescale
    mvhd.writeUInt32BE(2000, 16); // duration
    // This was once read as a 2 s video of unknown size; a track with no size (and no `vide` handler) is no video.
    const shortTkhd = Buffer.concat([ftyp, box('moov', box('mvhd', mvhd), box('trak', box('tkhd', Buffer.alloc(10)))), box('mdat', Buffer.alloc(64))]);
    expect(scan(shortTkhd, 5)).toBeNull();
    const tkhd = Buffer.alloc(84);
    tkhd.writeUInt32BE(320 << 16, 76);
    tkhd.writeUInt32BE(180 << 16, 80);
    const hdlr = Buffer.alloc(24);
    hdlr.write('vide', 8, 'latin1');
    const video = (stbl: Buffer) => box('trak', box('tkhd', tkhd), box('mdia', box('hdlr', hdlr), box('minf', box('stbl', stbl))));
    const shortTables = Buffer.concat([ftyp, box('moov', box('mvhd', mvhd), video(box('stco', Buffer.alloc(6)))), box('mdat', Buffer.alloc(64))]);
    expect(scan(shortTables, 5)).toBeNull();
    const stco = Buffer.alloc(12);
    stco.writeUInt32BE(5000, 4); // entries the box has no room for
    const overlong = Buffer.concat([ftyp, box('moov', box('mvhd', mvhd), video(box('stco', stco))), box('mdat', Buffer.alloc(64))]);
    expect(scan(overlong, 5)).toBeNull();
    expect(scan(shortTables, 5)).toBeNull();
  });

  it('refuses what is not a whole MP4: no ftyp first, cut short, no moov, garbage', () => {
    expect(scan(moovLast.subarray(0, moovLast.length - 100), 4096)).toBeNull();
    expect(scan(faststart.subarray(0, faststart.length - 1), 4096)).toBeNull();
    const withoutMoov = Buffer.concat(boxes(faststart).filter(([t]) => t !== 'moov').map(([, at, size]) => faststart.subarray(at, at + size)));
    expect(scan(withoutMoov, 4096)).toBeNull();
    expect(scan(faststart.subarray(boxes(faststart)[0][2]), 4096)).toBeNull();
    expect(scan(Buffer.from('<html>not a video</html>'.repeat(50)), 64)).toBeNull();
    expect(scan(Buffer.alloc(0), 1)).toBeNull();
  });

  describe('refuses an MP4 with no video to play', () => {
    const mvhd = Buffer.alloc(100);
    mvhd.writeUInt32BE(1000, 12); // timescale
    mvhd.writeUInt32BE(5000, 16); // duration: 5 s
    const [, moovAt, moovSize] = boxes(faststart).find(([t]) => t === 'moov')!;
    const fed = (bytes: Buffer) => {
      const scanner = new Mp4Scanner();
      scanner.feed(bytes);
      return [scanner.result(), scanner.cutShort()];
    };

    it('a movie header and padding, no track and no media', () => {
      const file = Buffer.concat([ftyp, box('moov', box('mvhd', mvhd)), box('free', Buffer.alloc(4096))]);
      expect(file.length).toBe(4240);
      expect(fed(file)).toEqual([null, false]);
      expect(probeMp4(file)).toBeNull();
    });

    it('sound only', () => {
      const audio = render('audio.mp4', ['-movflags', '+faststart'], [...AUDIO, '-c:a', 'aac']);
      expect(fed(audio)).toEqual([null, false]);
    });

    it('a faststart file cut right after its moov: cut short, so worth another download', () => {
      expect(fed(faststart.subarray(0, moovAt + moovSize))).toEqual([null, true]);
    });

    it('a media box "to the end of the file" (size 0) holding less than its video', () => {
      const mdat = Buffer.from('\0\0\0\0mdat0123456789', 'latin1');
      expect(fed(Buffer.concat([faststart.subarray(0, moovAt + moovSize), mdat]))).toEqual([null, true]);
      const [, mdatAt] = boxes(faststart).find(([t]) => t === 'mdat')!;
      const whole = Buffer.from(faststart);
      whole.writeUInt32BE(0, mdatAt);
      expect(fed(whole)).toEqual([probeMp4(faststart), false]);
      expect(fed(whole.subarray(0, whole.length - 1))).toEqual([null, true]);
    });

    it('but reads a video track after a sound track, and a fragmented MP4 (its media in moof boxes)', () => {
      const both = render('audio-first.mp4', ['-movflags', '+faststart'], [...VIDEO, ...AUDIO, '-map', '1:a', '-map', '0:v', '-c:a', 'aac', ...H264]);
      expect(probeMp4(both)).toEqual({ durationSeconds: expect.closeTo(2, 1), width: 320, height: 180 });
      const fragmented = render('fragmented.mp4', ['-movflags', 'frag_keyframe+empty_moov']);
      expect(boxes(fragmented).map(([t]) => t)).toContain('moof');
      expect(probeMp4(fragmented)).toMatchObject({ width: 320, height: 180 });
      const withoutFragments = Buffer.concat(boxes(fragmented).filter(([t]) => t !== 'moof').map(([, at, size]) => fragmented.subarray(at, at + size)));
      expect(probeMp4(withoutFragments)).toBeNull();
    });
  });

  it('takes fewer than 8 bytes after the last box for trailing junk, not for a box cut short', () => {
    const fed = (bytes: Buffer) => {
      const scanner = new Mp4Scanner();
      scanner.feed(bytes);
      return [scanner.result(), scanner.cutShort()];
    };
    for (const file of [faststart, moovLast]) {
      for (const junk of ['\n', '\r\n', '\0\0\0\0\0\0\0']) expect(fed(Buffer.concat([file, Buffer.from(junk)]))).toEqual([probeMp4(faststart), false]);
      expect(fed(Buffer.concat([file, Buffer.from('\n'.repeat(8))]))).toEqual([null, true]);
    }
    expect(scan(Buffer.concat([faststart, Buffer.from('\r\n')]), 1)).toEqual(probeMp4(faststart));
    // Needed boxes still count: bytes short of a whole moov are a cut, whatever their number.
    expect(fed(moovLast.subarray(0, moovLast.length - 5))).toEqual([null, true]);
  });

  it('copies the moov as it comes, keeping no chunk it was fed: a million 1-byte chunks in one reused buffer', () => {
    // moov last, so padding it moves no chunk; 1 MB of it makes a million chunks of moov alone.
    const [, moovAt, moovSize] = boxes(moovLast).find(([t]) => t === 'moov')!;
    const padded = Buffer.concat([moovLast.subarray(0, moovAt), box('moov', moovLast.subarray(moovAt + 8, moovAt + moovSize), box('free', Buffer.alloc(1024 * 1024)))]);
    const scanner = new Mp4Scanner();
    const one = Buffer.alloc(1);
    for (let at = 0; at < padded.length; at++) {
      one[0] = padded[at];
      scanner.feed(one);
    }
    expect(padded.length).toBeGreaterThan(1024 * 1024);
    expect(scanner.result()).toEqual(probeMp4(padded));
    expect(scanner.result()).toEqual(probeMp4(faststart));
  });
});
