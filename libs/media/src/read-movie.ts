import { boxesOf, findBox, readDuration, readTimes, type Range } from './boxes';
import { movieDuration, type Fragments, type TrackTimes } from './movie-duration';

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
  /** In a fragmented MP4 whose moov does not give its whole length: what summing its `moof`s' durations needs. */
  fragments: Fragments | null;
}

/**
 * Reads a `moov` box's body: duration (mvhd, see movieDuration) and the first video track (hdlr
 * `vide`) with a size (tkhd), with its chunk offsets (stco/co64) and sizes (stsc, stsz). Null when
 * there is no such track or a box needed is malformed. May throw on a box the reads here did not foresee.
 */
export function readMovie(buf: Buffer): Movie | null {
  const mvhd = findBox(buf, 0, buf.length, 'mvhd');
  const movie = mvhd && readTimes(buf, mvhd);
  if (!movie?.timescale) return null;
  for (const trak of boxesOf(buf, 0, buf.length, 'trak')) {
    const track = readVideoTrack(buf, trak);
    if (!track) continue;
    const { seconds, fragments } = movieDuration(buf, movie, track.times);
    return { info: { durationSeconds: seconds, width: track.width, height: track.height }, chunks: track.chunks, mediaEnd: track.mediaEnd, fragments };
  }
  return null;
}

interface VideoTrack {
  width: number;
  height: number;
  chunks: number;
  mediaEnd: number;
  times: TrackTimes;
}

function readVideoTrack(buf: Buffer, trak: Range): VideoTrack | null {
  const mdia = findBox(buf, trak.start, trak.end, 'mdia');
  const hdlr = mdia && findBox(buf, mdia.start, mdia.end, 'hdlr');
  if (!hdlr || hdlr.end - hdlr.start < 12 || buf.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') return null;
  const tkhd = findBox(buf, trak.start, trak.end, 'tkhd');
  if (!tkhd) return null;
  const wide = buf[tkhd.start] === 1;
  const off = tkhd.start + (wide ? 88 : 76);
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
  const mdhd = findBox(buf, mdia.start, mdia.end, 'mdhd');
  const times = { id: buf.readUInt32BE(tkhd.start + (wide ? 20 : 12)), duration: readDuration(buf, tkhd.start + (wide ? 28 : 20), wide ? 1 : 0), media: mdhd && readTimes(buf, mdhd) };
  return { width: turned ? height : width, height: turned ? width : height, ...extent, times };
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
