import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_KEPT_BYTES, Mp4Scanner } from './mp4-scanner';
import { probeMp4 } from './probe-mp4';

const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
const dir = mkdtempSync(join(tmpdir(), 'reelay-mp4-scanner-'));

function render(file: string, movflags: string[]): Buffer {
  const args = ['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', ...movflags];
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, join(dir, file)]);
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

  it('reads a file whose media box has a 64-bit size', () => {
    const [[, , ftypSize], moov] = [boxes(faststart)[0], boxes(faststart).find(([t]) => t === 'moov')!];
    const media = Buffer.alloc(5000, 7);
    const header = Buffer.alloc(16);
    header.writeUInt32BE(1, 0);
    header.write('mdat', 4, 'latin1');
    header.writeBigUInt64BE(BigInt(16 + media.length), 8);
    const file = Buffer.concat([faststart.subarray(0, ftypSize), header, media, faststart.subarray(moov[1], moov[1] + moov[2])]);
    expect(scan(file, 5)).toEqual(probeMp4(faststart));
  });

  it('refuses, without throwing, a moov whose last boxes are too short for their fields', () => {
    const box = (type: string, body: Buffer) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(8 + body.length, 0);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, body]);
    };
    const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isom', 'latin1'));
    const shortMvhd = Buffer.concat([ftyp, box('moov', box('mvhd', Buffer.alloc(8)))]);
    expect(probeMp4(shortMvhd)).toBeNull();
    expect(scan(shortMvhd, 3)).toBeNull();
    const mvhd = Buffer.alloc(20);
    mvhd.writeUInt32BE(1000, 12); // timescale
    mvhd.writeUInt32BE(2000, 16); // duration
    const shortTkhd = Buffer.concat([ftyp, box('moov', Buffer.concat([box('mvhd', mvhd), box('trak', box('tkhd', Buffer.alloc(10)))]))]);
    expect(scan(shortTkhd, 5)).toEqual({ durationSeconds: 2, width: null, height: null });
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
});
