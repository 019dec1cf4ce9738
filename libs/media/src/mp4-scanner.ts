import { fragmentTicks } from './read-fragment';
import { readMovie, type Movie, type Mp4Info } from './read-movie';

/**
 * Largest boxes accepted: a `moov` over this is not one we will read, nor an `ftyp`. An hour of
 * 30 fps video has a `moov` of a few MB, and a poller runs up to 16 copies at once by default, each
 * holding a buffer of its `moov`'s declared size while it comes in: 16 MB each keeps that within a
 * service's memory budget. A `moof` (a fragment's sample table, kept one at a time after the `moov`)
 * over its limit is let through unread, its durations unknown.
 */
export const MAX_KEPT_BYTES = { moov: 16 * 1024 * 1024, moof: 16 * 1024 * 1024, ftyp: 4096 } as const;

/** Longest a fragmented file's summed samples may last: more is a damaged or hostile sample table, not a video. */
const MAX_SUMMED_SECONDS = 24 * 3600;

/**
 * probeMp4 over a stream, in constant memory: fed the file chunk by chunk as it is copied, it walks
 * the top-level boxes and keeps only the `moov` (the media data, `mdat`, is most of the file and is
 * skipped), and in a fragmented MP4 whose `moov` does not say its length each `moof` in turn, to
 * sum its durations. A file is a readable MP4 when its first box is `ftyp`, its `moov` has a video
 * track with a size, an `mdat` came (with a `moof` when that track's chunks are not in the `moov`),
 * and the file reaches the end of the track's last chunk. Fewer than 8 bytes after the last whole
 * box cannot be a box: they are ignored.
 */
export class Mp4Scanner {
  private readonly header = Buffer.alloc(16);
  private headerBytes = 0;
  /** Bytes of the current box still to come (Infinity: a size-0 box running to the end of the file). */
  private left = 0;
  /** The `moov` or `moof` being copied in, allocated at its declared size: chunks are copied, never kept. */
  private kept: { type: 'moov' | 'moof'; body: Buffer; at: number } | null = null;
  private movie: Movie | null | undefined;
  /** The video track's sample durations in the `moof`s after the `moov`; null once one could not be read. */
  private fragmentTicks: number | null = 0;
  private boxes = 0;
  private bytes = 0;
  private mdat = false;
  private moof = false;
  private broken = false;

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.left === 0) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const n = Math.min(this.left, chunk.length - at);
      if (this.kept) this.kept.at += chunk.copy(this.kept.body, this.kept.at, at, at + n);
      this.left -= n;
      this.bytes += n;
      at += n;
      if (this.left === 0) this.endBox();
    }
  }

  result(): Mp4Info | null {
    return this.state().info;
  }

  /**
   * Whether the bytes fed so far end inside a box, or before the media the `moov` points at (a
   * faststart file cut after its `moov`): a file cut off in transit.
   */
  cutShort(): boolean {
    return this.state().cut;
  }

  private state(): { info: Mp4Info | null; cut: boolean } {
    if (this.broken) return { info: null, cut: false };
    if ((this.left > 0 && this.left !== Infinity) || this.headerBytes >= 8) return { info: null, cut: true };
    const whole = this.bytes - this.headerBytes;
    const movie = this.movie;
    const mediaMissing = !!movie && movie.chunks > 0 && movie.mediaEnd > whole;
    if (movie && this.mdat && !mediaMissing && (movie.chunks > 0 || this.moof)) return { info: { ...movie.info, durationSeconds: this.duration(movie) }, cut: false };
    return { info: null, cut: this.headerBytes > 0 || mediaMissing };
  }

  /** Collects a box header (8 bytes, 16 with a 64-bit size) that may span chunks; returns the next offset. */
  private readHeader(chunk: Buffer, at: number): number {
    const take = Math.min((this.headerBytes >= 8 && this.header.readUInt32BE(0) === 1 ? 16 : 8) - this.headerBytes, chunk.length - at);
    chunk.copy(this.header, this.headerBytes, at, at + take);
    this.headerBytes += take;
    this.bytes += take;
    at += take;
    if (this.headerBytes < 8) return at;
    const size32 = this.header.readUInt32BE(0);
    const headerSize = size32 === 1 ? 16 : 8;
    if (this.headerBytes < headerSize) return at;

    const type = this.header.toString('latin1', 4, 8);
    const size = size32 === 1 ? Number(this.header.readBigUInt64BE(8)) : size32 === 0 ? Infinity : size32;
    this.headerBytes = 0;
    if (size < headerSize || (this.boxes++ === 0 && type !== 'ftyp') || ((type === 'ftyp' || type === 'moov') && size > MAX_KEPT_BYTES[type])) {
      this.broken = true;
      return chunk.length;
    }
    this.left = size - headerSize;
    if (type === 'mdat') this.mdat = true;
    if (type === 'moov') this.kept = { type, body: Buffer.alloc(this.left), at: 0 };
    if (type === 'moof') this.startMoof(size);
    if (this.left === 0) this.endBox();
    return at;
  }

  private startMoof(size: number): void {
    this.moof = true;
    if (!this.movie?.fragments || this.fragmentTicks === null) return;
    if (size > MAX_KEPT_BYTES.moof) this.fragmentTicks = null;
    else this.kept = { type: 'moof', body: Buffer.alloc(this.left), at: 0 };
  }

  private endBox(): void {
    const kept = this.kept;
    this.kept = null;
    if (kept?.type === 'moov') {
      this.movie = unlessThrown(() => readMovie(kept.body));
      // Fragments come after the moov: with one before it, the sum of theirs is not known.
      this.fragmentTicks = this.moof ? null : 0;
    }
    const fragments = this.movie?.fragments;
    if (kept?.type === 'moof' && fragments && this.fragmentTicks !== null) {
      const ticks = unlessThrown(() => fragmentTicks(kept.body, fragments.track));
      this.fragmentTicks = ticks === null ? null : this.fragmentTicks + ticks;
    }
  }

  /** The movie's length: its moov's, or with fragments summed, theirs added to the samples the moov holds. */
  private duration(movie: Movie): number {
    const fragments = movie.fragments;
    if (!fragments || !this.fragmentTicks) return movie.info.durationSeconds;
    const summed = (fragments.ticks + this.fragmentTicks) / fragments.timescale;
    // A trun says its sample count and a default duration in 32 bits each, unchecked by the bytes: past a day it is no video's.
    return summed <= MAX_SUMMED_SECONDS ? summed : movie.info.durationSeconds;
  }
}

/** What a read of a box gives, or null when it throws: a malformed box the read did not foresee. */
function unlessThrown<T>(read: () => T | null): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
