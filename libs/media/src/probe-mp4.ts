export interface Mp4Info {
  durationSeconds: number;
  width: number | null;
  height: number | null;
}

/**
 * Reads duration and video dimensions from an MP4's `moov` box without decoding anything, so
 * output custody can refuse files that are not playable video before a job is `succeeded`.
 */
export function probeMp4(buf: Buffer): Mp4Info | null {
  if (buf.length < 12 || buf.toString('ascii', 4, 8) !== 'ftyp') return null;
  const moov = findBox(buf, 0, buf.length, 'moov');
  if (!moov) return null;
  const mvhd = findBox(buf, moov.start, moov.end, 'mvhd');
  // A box too short for the fields read below is malformed, not a reason to read past it.
  if (!mvhd || mvhd.end - mvhd.start < (buf[mvhd.start] === 1 ? 32 : 20)) return null;
  const version = buf[mvhd.start];
  const timescale = version === 1 ? buf.readUInt32BE(mvhd.start + 20) : buf.readUInt32BE(mvhd.start + 12);
  const duration = version === 1 ? Number(buf.readBigUInt64BE(mvhd.start + 24)) : buf.readUInt32BE(mvhd.start + 16);
  if (!timescale) return null;
  let width: number | null = null;
  let height: number | null = null;
  for (let trak = findBox(buf, moov.start, moov.end, 'trak'); trak; trak = findBox(buf, trak.end, moov.end, 'trak')) {
    const tkhd = findBox(buf, trak.start, trak.end, 'tkhd');
    if (!tkhd) continue;
    const off = tkhd.start + (buf[tkhd.start] === 1 ? 88 : 76);
    if (off + 8 > tkhd.end) continue;
    const w = buf.readUInt32BE(off) >>> 16;
    const h = buf.readUInt32BE(off + 4) >>> 16;
    if (w && h) {
      width = w;
      height = h;
      break;
    }
  }
  return { durationSeconds: duration / timescale, width, height };
}

function findBox(buf: Buffer, from: number, to: number, type: string): { start: number; end: number } | null {
  let i = from;
  while (i + 8 <= to) {
    let size = buf.readUInt32BE(i);
    let header = 8;
    if (size === 1 && i + 16 <= to) {
      size = Number(buf.readBigUInt64BE(i + 8));
      header = 16;
    } else if (size === 0) size = to - i;
    if (size < header || i + size > to) return null;
    if (buf.toString('ascii', i + 4, i + 8) === type) return { start: i + header, end: i + size };
    i += size;
  }
  return null;
}
