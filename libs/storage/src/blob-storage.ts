import type { Readable } from 'node:stream';

/** What a described blob is stored with, and `stat` gives back. */
export interface BlobDescription {
  contentType: string;
  metadata?: Record<string, unknown>;
}

/**
 * Checks a put makes before its blob takes `key`. Both run with the bytes durable under a temporary
 * name, so a blob that fails them never replaces what `key` holds.
 */
export interface PutGuards {
  /** Throws to refuse the blob (it is removed and the put rejects with that error). */
  accept?: () => void | Promise<void>;
  /**
   * When `key` already holds a blob, keep that one: the new bytes are removed and the put resolves
   * with `kept: true`. Without it an existing blob is replaced.
   */
  keepExisting?: boolean;
}

export interface BlobStat {
  bytes: number;
  /** Null for a plain blob (put without a description). */
  contentType: string | null;
  metadata: Record<string, unknown>;
}

export interface OpenBlob {
  readonly bytes: number;
  /** One stream per opened blob; it closes the blob when it ends or fails. */
  stream(range?: { start: number; end: number }): Readable;
  close(): Promise<void>;
}

/** Where reelay keeps uploaded assets and generated outputs. Keys are `/`-separated, no `..`. */
export interface BlobStorage {
  /**
   * Stores `data` at `key`, durably, before resolving. With a description the blob is described:
   * `stat` gives its type and metadata back (uploaded assets). Without one it is plain, for callers
   * that record what it is themselves (a job's output event carries its type, size and hash); a
   * plain blob costs one file instead of two. A plain put over a described blob keeps the old
   * description.
   */
  put(key: string, data: Buffer | Readable, description?: BlobDescription, guards?: PutGuards): Promise<{ bytes: number; kept?: true }>;
  stat(key: string): Promise<BlobStat | null>;
  /**
   * Makes the blob at `key`, as it is there now, survive a power loss: what a caller does before it
   * records a blob it found in place rather than put (its putter may have stopped before that).
   */
  makeDurable(key: string): Promise<void>;
  read(key: string): Promise<Buffer>;
  /** A byte range, inclusive `end`, for HTTP Range answers. */
  stream(key: string, range?: { start: number; end: number }): Readable;
  /**
   * The blob as it is now, held open: its size and its bytes stay those of one version even if it is
   * removed or replaced meanwhile (what an HTTP answer needs between its Content-Length and its
   * body). Null when `key` holds nothing. Close it unless a stream of it was read to its end.
   */
  open(key: string): Promise<OpenBlob | null>;
  /** Removes the blob at `key` and its description; a key that holds nothing is no error. */
  remove(key: string): Promise<void>;
  /**
   * Removes the blob at `key` only if it was last written at least `olderThanMs` ago; resolves
   * whether it removed it (false when it is younger, e.g. put again since it was listed, or gone).
   */
  removeIfOlderThan(key: string, olderThanMs: number): Promise<boolean>;
  /**
   * Removes what puts under `prefix` cut off by a crash left behind, untouched for `olderThanMs`;
   * resolves with how many. Absent where storage leaves nothing behind.
   */
  sweepAbandoned?(prefix: string, olderThanMs: number): Promise<number>;
  /**
   * The keys of the blobs directly under `prefix` last written at least `olderThanMs` ago, one at a
   * time (a directory of millions is never held in memory); temporary files of puts are left out,
   * and so are keys `skip` returns true for (asked before the blob's age is looked up).
   */
  listOlderThan(prefix: string, olderThanMs: number, skip?: (key: string) => boolean): AsyncIterable<string>;
  /** A file on this host that holds the blob, for tools that need to seek in it (ffmpeg); absent where blobs are not local files. */
  localPath?(key: string): string;
}

export const assetKey = (assetId: string) => `assets/${assetId}`;
export const outputKey = (jobId: string) => `outputs/${jobId}.mp4`;
/** A still of a job's video, made from it on first request. */
export const posterKey = (jobId: string) => `outputs/${jobId}.poster.webp`;
/**
 * Removes a job's video and the poster made from it; what is already gone is no error. The poster
 * goes first: a failure then leaves the video, so the removal is tried again (a redelivery, the
 * retention sweep) and finds the poster too, where the sweep would never look at a lone poster.
 */
export async function removeJobOutput(storage: Pick<BlobStorage, 'remove'>, jobId: string): Promise<void> {
  await storage.remove(posterKey(jobId));
  await storage.remove(outputKey(jobId));
}
/** The job whose poster `key` is (the inverse of posterKey); null for any other key. */
export const jobIdOfPosterKey = (key: string): string | null => /^outputs\/([A-Za-z0-9_-]+)\.poster\.webp$/.exec(key)?.[1] ?? null;
/** The job whose output `key` is (the inverse of outputKey); null for any other key. */
export const jobIdOfOutputKey = (key: string): string | null => /^outputs\/([A-Za-z0-9_-]+)\.mp4$/.exec(key)?.[1] ?? null;

/** Runs `use` with an opened blob and closes it afterwards, unless `use` made its stream (which closes it). */
export async function usingBlob<T>(blob: OpenBlob, use: (blob: OpenBlob) => Promise<T>): Promise<T> {
  let streamed = false;
  const tracked: OpenBlob = {
    bytes: blob.bytes,
    stream: (range) => {
      const body = blob.stream(range);
      streamed = true;
      return body;
    },
    close: () => blob.close(),
  };
  try {
    return await use(tracked);
  } finally {
    if (!streamed) await blob.close().catch(() => undefined);
  }
}
