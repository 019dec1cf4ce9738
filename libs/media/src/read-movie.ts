export interface Mp4Info {
  durationSeconds: number;
  width: number;
  height: number;
}

/** What a `moov` says of its video track, and where that track's media lies in the file. */
export interface Movie {
  info: Mp4Info;
  /** Chunks the sample table places in the file (0 in a fragmented MP4: the media is in `moof`s). */
  chunks: number;
  /** The file offset just past the video track's last chunk: a file shorter than that lacks media. */
  mediaEnd: number;
}

interface Range {
  start: number;
  end: number;
}

/**
 * Reads a `moov` box's body: duration (mvhd) and the first video track (hdlr `vide`) with a size
 * (tkhd), with its chunk offsets (stco/co64) and sizes (stsc, stsz). Null when there is no such
 * track or a box needed is malformed. May throw on a box the reads here did not foresee.
 */
export function readMovie(buf: Buffer): Movie | null {
  const mvhd = findBox(buf, 0, buf.length, 'mvhd');
  // A box too short for the fields read below is malformed, not a reason to read past it.
  if (!mvhd || mvhd.end - mvhd.start < (buf[mvhd.start] === 1 ? 32 : 20)) return null;
  const version = buf[mvhd.start];
  const timescale = version === 1 ? buf.readUInt32BE(mvhd.start + 20) : buf.readUInt32BE(mvhd.start + 12);
  const duration = version === 1 ? Number(buf.readBigUInt64BE(mvhd.start + 24)) : buf.readUInt32BE(mvhd.start + 16);
  if (!timescale) return null;
  for (let trak = findBox(buf, 0, buf.length, 'trak'); trak; trak = findBox(buf, trak.end, buf.length, 'trak')) {
    const track = readVideoTrack(buf, trak);
    if (track) return { info: { durationSeconds: duration / timescale, width: track.width, height: track.height }, chunks: track.chunks, mediaEnd: track.mediaEnd };
  }
  return null;
}

function readVideoTrack(buf: Buffer, trak: Range): { width: number; height: number; chunks: number; mediaEnd: number } | null {
  const mdia = findBox(buf, trak.start, trak.end, 'mdia');
  const hdlr = mdia && findBox(buf, mdia.start, mdia.end, 'hdlr');
  if (!hdlr || hdlr.end - hdlr.start < 12 || buf.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') return null;
  const tkhd = findBox(buf, trak.start, trak.end, 'tkhd');
  if (!tkhd) return null;
  const off = tkhd.start + (buf[tkhd.start] === 1 ? 88 : 76);
  if (off + 8 > tkhd.end) return null;
  const width = buf.readUInt32BE(off) >>> 16;
  const height = buf.readUInt32BE(off + 4) >>> 16;
  const minf = findBox(buf, mdia.start, mdia.end, 'minf');
  const stbl = minf && findBox(buf, minf.start, minf.end, 'stbl');
  const extent = stbl && mediaExtent(buf, stbl);
  if (!width || !height || !extent) return null;
  // A quarter turn in the track's matrix (a phone's portrait video stored landscape): players show it
  // with its sides swapped, and that is the size the job reports. The matrix's a, b, d come 36 bytes before width.
  const matrix = off - 36;
  const turned = buf.readInt32BE(matrix) === 0 && buf.readInt32BE(matrix + 16) === 0 && buf.readInt32BE(matrix + 4) !== 0;
  return { width: turned ? height : width, height: turned ? width : height, ...extent };
}

/** Where the chunks of a sample table lie: their count, and the end of the furthest. */
function mediaExtent(buf: Buffer, stbl: Range): { chunks: number; mediaEnd: number } | null {
  const stco = findBox(buf, stbl.start, stbl.end, 'stco');
  const co = stco ?? findBox(buf, stbl.start, stbl.end, 'co64');
  if (!co || co.end - co.start < 8) return null;
  const wide = !stco;
  const chunks = buf.readUInt32BE(co.start + 4);
  if (chunks > (co.end - co.start - 8) / (wide ? 8 : 4)) return null;
  const offset = (i: number) => (wide ? Number(buf.readBigUInt64BE(co.start + 8 + 8 * i)) : buf.readUInt32BE(co.start + 8 + 4 * i));
  const bytes = chunkBytes(buf, stbl);
  if (bytes === null) return null;
  let mediaEnd = 0;
  for (let i = 0; i < chunks; i++) {
    const size = bytes(i);
    if (size === null) return null;
    mediaEnd = Math.max(mediaEnd, offset(i) + size);
  }
  return { chunks, mediaEnd };
}

/**
 * The size of each chunk in turn (asked in order from chunk 0), from stsc (samples per chunk) and
 * stsz (sample sizes); null for a chunk those tables do not account for. Without an stsz (an
 * stz2 holds the sizes instead), each chunk is taken as 1 byte: its offset at least must be in the file.
 */
function chunkBytes(buf: Buffer, stbl: Range): ((chunk: number) => number | null) | null {
  const stsc = findBox(buf, stbl.start, stbl.end, 'stsc');
  const stsz = findBox(buf, stbl.start, stbl.end, 'stsz');
  if (!stsz) return () => 1;
  if (!stsc || stsc.end - stsc.start < 8 || stsz.end - stsz.start < 12) return null;
  const runs = buf.readUInt32BE(stsc.start + 4);
  if (runs > (stsc.end - stsc.start - 8) / 12) return null;
  const fixedSize = buf.readUInt32BE(stsz.start + 4);
  const samples = buf.readUInt32BE(stsz.start + 8);
  if (!fixedSize && samples > (stsz.end - stsz.start - 12) / 4) return null;
  const firstChunk = (run: number) => buf.readUInt32BE(stsc.start + 8 + 12 * run) - 1;
  let run = -1;
  let sample = 0;
  return (chunk) => {
    while (run + 1 < runs && firstChunk(run + 1) <= chunk) run++;
    if (run < 0) return null;
    const perChunk = buf.readUInt32BE(stsc.start + 8 + 12 * run + 4);
    if (sample + perChunk > samples) return null;
    let size = fixedSize * perChunk;
    if (!fixedSize) for (let s = sample; s < sample + perChunk; s++) size += buf.readUInt32BE(stsz.start + 12 + 4 * s);
    sample += perChunk;
    return size;
  };
}

function findBox(buf: Buffer, from: number, to: number, type: string): Range | null {
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
