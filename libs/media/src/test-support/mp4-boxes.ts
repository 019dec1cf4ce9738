/** Writers of ISO BMFF boxes, for specs that build the MP4 they read. */

export function box(type: string, ...body: Buffer[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.reduce((n, b) => n + b.length, 0), 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...body]);
}

/** 32-bit big-endian fields. */
export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v, 4 * i));
  return out;
}

/** A 64-bit field (version 1 of a full box). */
export function u64(value: bigint | number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/** A full box: its version and flags, then its fields. */
export function fullBox(type: string, version: number, flags: number, ...fields: Buffer[]): Buffer {
  return box(type, u32(((version << 24) | flags) >>> 0), ...fields);
}

export const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isom', 'latin1'));

/** "Unknown" in a duration field of either width. */
export const UNKNOWN = { 0: 0xffffffff, 1: 0xffffffffffffffffn } as const;

type Version = 0 | 1;
type Duration = number | bigint;

/** A field of a version 0 (32 bits) or version 1 (64 bits) box. */
const wide = (version: Version, value: Duration) => (version === 1 ? u64(value) : u32(Number(value)));

/** An mvhd or mdhd: they share the layout up to the duration. */
function timesBox(type: 'mvhd' | 'mdhd', version: Version, timescale: number, duration: Duration, rest: number): Buffer {
  return fullBox(type, version, 0, wide(version, 0), wide(version, 0), u32(timescale), wide(version, duration), Buffer.alloc(rest));
}

export const mvhd = (version: Version, timescale: number, duration: Duration) => timesBox('mvhd', version, timescale, duration, 80);
export const mehd = (version: Version, duration: Duration) => fullBox('mehd', version, 0, wide(version, duration));
export const trex = (trackId: number, defaultDuration: number) => fullBox('trex', 0, 0, u32(trackId, 1, defaultDuration, 0, 0));

export interface TrackSpec {
  version: Version;
  id: number;
  /** In the movie's timescale. */
  duration: Duration;
  mediaTimescale: number;
  mediaDuration: Duration;
  handler?: string;
  /** The file offsets of its chunks (of a byte each): none in a fragmented MP4, its samples are in moofs. */
  chunks?: number[];
}

/** A track 320x180. */
export function trak({ version, id, duration, mediaTimescale, mediaDuration, handler = 'vide', chunks = [] }: TrackSpec): Buffer {
  const tkhd = fullBox('tkhd', version, 7, wide(version, 0), wide(version, 0), u32(id, 0), wide(version, duration), Buffer.alloc(52), u32(320 << 16, 180 << 16));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from(handler, 'latin1'), Buffer.alloc(13));
  const stbl = box('stbl', fullBox('stco', 0, 0, u32(chunks.length, ...chunks)));
  return box('trak', tkhd, box('mdia', timesBox('mdhd', version, mediaTimescale, mediaDuration, 4), hdlr, box('minf', stbl)));
}

export const TFHD = { baseDataOffset: 0x01, sampleDescriptionIndex: 0x02, defaultDuration: 0x08 } as const;
export const TRUN = { dataOffset: 0x01, firstSampleFlags: 0x04, duration: 0x100, size: 0x200 } as const;

/** A tfhd with the optional fields its flags name: a default sample duration, and others that only take room. */
export function tfhd(trackId: number, flags: number, defaultDuration = 0): Buffer {
  const optional = [
    [TFHD.baseDataOffset, u64(0x123456789a)],
    [TFHD.sampleDescriptionIndex, u32(77)],
    [TFHD.defaultDuration, u32(defaultDuration)],
  ] as const;
  return fullBox('tfhd', 0, flags, u32(trackId), ...optional.filter(([f]) => flags & f).map(([, field]) => field));
}

/** A trun of `count` samples, each with the fields its flags name: its duration (from `durations`), a size of 100. */
export function trun(flags: number, count: number, durations: number[] = []): Buffer {
  const head = [TRUN.dataOffset, TRUN.firstSampleFlags].filter((f) => flags & f).map(() => u32(0));
  const sample = (i: number) => u32(...(flags & TRUN.duration ? [durations[i]] : []), ...(flags & TRUN.size ? [100] : []));
  return fullBox('trun', 0, flags, u32(count), ...head, ...Array.from({ length: count }, (_, i) => sample(i)));
}
