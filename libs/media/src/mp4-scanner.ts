import { probeMp4, type Mp4Info } from './probe-mp4';

/**
 * Largest boxes kept: a `moov` over this is not one we will read, nor an `ftyp`. An hour of 30 fps
 * video has a `moov` of a few MB, and a poller runs up to 16 copies at once by default, each
 * holding its `moov` until the copy ends: 16 MB each keeps that within a service's memory budget.
 */
export const MAX_KEPT_BYTES = { moov: 16 * 1024 * 1024, ftyp: 4096 } as const;

type Kept = 'ftyp' | 'moov';

/**
 * probeMp4 over a stream, in constant memory: fed the file chunk by chunk as it is copied, it walks
 * the top-level boxes and keeps only `ftyp` and `moov` (the media data, `mdat`, is most of the
 * file and is skipped). `result()` then probes those two boxes. A file whose first box is not
 * `ftyp`, whose last box is cut short, or that has no `moov` is not a readable MP4 (null).
 */
export class Mp4Scanner {
  private header: Buffer[] = [];
  private headerBytes = 0;
  /** Bytes of the current box still to come (Infinity: a size-0 box running to the end of the file). */
  private left = 0;
  private keeping: { type: Kept; parts: Buffer[] } | null = null;
  private readonly kept = new Map<Kept, Buffer>();
  private boxes = 0;
  private broken = false;

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.left === 0) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const n = Math.min(this.left, chunk.length - at);
      this.keeping?.parts.push(chunk.subarray(at, at + n));
      this.left -= n;
      at += n;
      if (this.left === 0) this.endBox();
    }
  }

  result(): Mp4Info | null {
    if (this.left === Infinity) {
      this.left = 0;
      this.endBox();
    }
    const [ftyp, moov] = [this.kept.get('ftyp'), this.kept.get('moov')];
    if (this.broken || this.left > 0 || this.headerBytes > 0 || !ftyp || !moov) return null;
    try {
      return probeMp4(Buffer.concat([ftyp, moov]));
    } catch {
      return null; // a malformed box the probe did not foresee: not a readable MP4
    }
  }

  /** Whether the bytes fed so far end inside a box (or its header): a file cut off in transit. */
  cutShort(): boolean {
    return !this.broken && ((this.left > 0 && this.left !== Infinity) || this.headerBytes > 0);
  }

  /** Collects a box header (8 bytes, 16 with a 64-bit size) that may span chunks; returns the next offset. */
  private readHeader(chunk: Buffer, at: number): number {
    const take = Math.min(16 - this.headerBytes, chunk.length - at);
    this.header.push(chunk.subarray(at, at + take));
    this.headerBytes += take;
    const head = Buffer.concat(this.header);
    if (head.length < 8) return at + take;
    const size32 = head.readUInt32BE(0);
    const headerSize = size32 === 1 ? 16 : 8;
    if (head.length < headerSize) return at + take;

    const type = head.toString('latin1', 4, 8);
    const size = size32 === 1 ? Number(head.readBigUInt64BE(8)) : size32 === 0 ? Infinity : size32;
    if (size < headerSize || (this.boxes++ === 0 && type !== 'ftyp')) {
      this.broken = true;
      return chunk.length;
    }
    const headerBytesOfThisChunk = headerSize - (this.headerBytes - take);
    this.header = [];
    this.headerBytes = 0;
    this.left = size - headerSize;
    if (type === 'ftyp' || type === 'moov') {
      if (size > MAX_KEPT_BYTES[type]) {
        this.broken = true;
        return chunk.length;
      }
      this.keeping = { type, parts: [head.subarray(0, headerSize)] };
    }
    if (this.left === 0) this.endBox();
    return at + headerBytesOfThisChunk;
  }

  private endBox(): void {
    if (this.keeping) this.kept.set(this.keeping.type, Buffer.concat(this.keeping.parts));
    this.keeping = null;
  }
}
