import { boxesOf, findBox, readDuration, type Range, type Times } from './boxes';
import type { FragmentedTrack } from './read-fragment';

/** What a video track says of its length: in its tkhd (movie timescale) and its mdhd (its own). */
export interface TrackTimes {
  id: number;
  duration: number | null;
  media: Times | null;
}

/** A fragmented MP4's video track, whose samples in `moof`s are summed and added to the `ticks` its moov holds. */
export interface Fragments {
  track: FragmentedTrack;
  timescale: number;
  ticks: number;
}

/**
 * How long the movie is by its moov: mvhd's duration, or when that is unknown the video track's
 * (mdhd's, else tkhd's), or 0 as when mvhd says 0. A fragmented MP4 (with an mvex) says its whole
 * length in mehd; without one its moov covers only the samples it holds (often none), so
 * `fragments` says how to add those of its moofs.
 */
export function movieDuration(buf: Buffer, movie: Times, track: TrackTimes): { seconds: number; fragments: Fragments | null } {
  const mvex = findBox(buf, 0, buf.length, 'mvex');
  const whole = mvex && mehdDuration(buf, mvex);
  if (whole) return { seconds: whole / movie.timescale, fragments: null };
  const media = track.media?.timescale ? track.media : null;
  const trackSeconds = media?.duration ? media.duration / media.timescale : track.duration ? track.duration / movie.timescale : 0;
  const seconds = movie.duration === null ? trackSeconds : movie.duration / movie.timescale;
  if (!mvex || !media) return { seconds, fragments: null };
  return { seconds, fragments: { track: { id: track.id, defaultDuration: trexDuration(buf, mvex, track.id) }, timescale: media.timescale, ticks: media.duration ?? 0 } };
}

function mehdDuration(buf: Buffer, mvex: Range): number | null {
  const mehd = findBox(buf, mvex.start, mvex.end, 'mehd');
  if (!mehd) return null;
  const version = buf[mehd.start];
  return mehd.end - mehd.start < (version === 1 ? 12 : 8) ? null : readDuration(buf, mehd.start + 4, version);
}

/** The default sample duration trex sets for a track (0 when it sets none). */
function trexDuration(buf: Buffer, mvex: Range, trackId: number): number {
  for (const trex of boxesOf(buf, mvex.start, mvex.end, 'trex')) {
    if (trex.end - trex.start >= 16 && buf.readUInt32BE(trex.start + 4) === trackId) return buf.readUInt32BE(trex.start + 12);
  }
  return 0;
}
