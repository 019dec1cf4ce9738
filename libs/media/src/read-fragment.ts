import { boxesOf, findBox, type Range } from './boxes';

/** What summing a track's samples over `moof`s needs from the `moov`: the track's id and its trex default sample duration. */
export interface FragmentedTrack {
  id: number;
  defaultDuration: number;
}

const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
/** The per-sample fields a trun's flags can name (duration, size, flags, composition offset), 4 bytes each. */
const TRUN_SAMPLE_FIELDS = [TRUN_DURATION, 0x200, 0x400, 0x800];

/**
 * The durations of a track's samples in a `moof` body, summed (in the track's media timescale): each
 * trun's own, else its tfhd's default, else trex's. Null when a box needed is malformed.
 */
export function fragmentTicks(buf: Buffer, track: FragmentedTrack): number | null {
  let ticks = 0;
  for (const traf of boxesOf(buf, 0, buf.length, 'traf')) {
    const tfhd = findBox(buf, traf.start, traf.end, 'tfhd');
    if (!tfhd || tfhd.end - tfhd.start < 8) return null;
    if (buf.readUInt32BE(tfhd.start + 4) !== track.id) continue;
    const flags = buf.readUInt32BE(tfhd.start) & 0xffffff;
    const at = tfhd.start + 8 + (flags & TFHD_BASE_DATA_OFFSET ? 8 : 0) + (flags & TFHD_SAMPLE_DESCRIPTION_INDEX ? 4 : 0);
    if (flags & TFHD_DEFAULT_DURATION && at + 4 > tfhd.end) return null;
    const byDefault = flags & TFHD_DEFAULT_DURATION ? buf.readUInt32BE(at) : track.defaultDuration;
    for (const trun of boxesOf(buf, traf.start, traf.end, 'trun')) {
      const run = runTicks(buf, trun, byDefault);
      if (run === null) return null;
      ticks += run;
    }
  }
  return ticks;
}

function runTicks(buf: Buffer, trun: Range, byDefault: number): number | null {
  if (trun.end - trun.start < 8) return null;
  const flags = buf.readUInt32BE(trun.start) & 0xffffff;
  const count = buf.readUInt32BE(trun.start + 4);
  if (!(flags & TRUN_DURATION)) return count * byDefault;
  const first = trun.start + 8 + (flags & TRUN_DATA_OFFSET ? 4 : 0) + (flags & TRUN_FIRST_SAMPLE_FLAGS ? 4 : 0);
  const stride = 4 * TRUN_SAMPLE_FIELDS.filter((field) => flags & field).length;
  // The samples must fit in the box: this bounds the loop by the bytes given, whatever the count says.
  if (count > (trun.end - first) / stride) return null;
  let ticks = 0;
  // A sample's duration is the first of its fields.
  for (let i = 0; i < count; i++) ticks += buf.readUInt32BE(first + i * stride);
  return ticks;
}
