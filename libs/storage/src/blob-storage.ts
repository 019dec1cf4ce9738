import type { Readable } from 'node:stream';

export interface BlobInfo {
  bytes: number;
  contentType: string;
}

/** Where reelay keeps uploaded assets and generated outputs. Keys are `/`-separated, no `..`. */
export interface BlobStorage {
  put(key: string, data: Buffer | Readable, info: { contentType: string; metadata?: Record<string, unknown> }): Promise<BlobInfo>;
  stat(key: string): Promise<(BlobInfo & { metadata: Record<string, unknown> }) | null>;
  read(key: string): Promise<Buffer>;
  /** A byte range, inclusive `end`, for HTTP Range answers. */
  stream(key: string, range?: { start: number; end: number }): Readable;
}

export const assetKey = (assetId: string) => `assets/${assetId}`;
export const outputKey = (jobId: string) => `outputs/${jobId}.mp4`;
