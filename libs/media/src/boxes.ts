export interface Range {
  start: number;
  end: number;
}

/** A timescale (units a second) and a duration in it, null when the file says it is not known. */
export interface Times {
  timescale: number;
  duration: number | null;
}

/** The body of the first box of `type` among the boxes from `from` to `to`; null when none, or a size runs out of range. */
export function findBox(buf: Buffer, from: number, to: number, type: string): Range | null {
  let i = from;
  while (i + 8 <= to) {
    let size = buf.readUInt32BE(i);
    let header = 8;
    if (size === 1 && i + 16 <= to) {
      size = Number(buf.readBigUInt64BE(i + 8));
      header = 16;
    } else if (size === 0) size = to - i;
    if (size < header || i + size > to) return null;
    if (buf.toString('latin1', i + 4, i + 8) === type) return { start: i + header, end: i + size };
    i += size;
  }
  return null;
}

/** Each box of `type` among the boxes from `from` to `to`, in turn. */
export function* boxesOf(buf: Buffer, from: number, to: number, type: string): Generator<Range> {
  for (let box = findBox(buf, from, to, type); box; box = findBox(buf, box.end, to, type)) yield box;
}

/**
 * A duration field at `at`: 64 bits in a version 1 box, else 32. Null when all its bits are set,
 * which ISO/IEC 14496-12 reserves for a duration not known.
 */
export function readDuration(buf: Buffer, at: number, version: number): number | null {
  if (version === 1) {
    const wide = buf.readBigUInt64BE(at);
    return wide === 0xffffffffffffffffn ? null : Number(wide);
  }
  const narrow = buf.readUInt32BE(at);
  return narrow === 0xffffffff ? null : narrow;
}

/**
 * The timescale and duration of an mvhd or mdhd (alike up to there); null when the box is too short
 * for them: it is malformed, not a reason to read past it.
 */
export function readTimes(buf: Buffer, box: Range): Times | null {
  const version = buf[box.start];
  if (box.end - box.start < (version === 1 ? 32 : 20)) return null;
  return { timescale: buf.readUInt32BE(box.start + (version === 1 ? 20 : 12)), duration: readDuration(buf, box.start + (version === 1 ? 24 : 16), version) };
}
