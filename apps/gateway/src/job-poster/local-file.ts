import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStorage } from '@reelay/storage';

/**
 * Runs `use` with a file holding the blob at `key`: the blob's own file where storage has one, else
 * a temporary copy (ffmpeg must seek: an MP4's index may come after its frames), which `signal` stops.
 */
export async function withLocalFile<T>(storage: BlobStorage, key: string, signal: AbortSignal, use: (file: string) => Promise<T>): Promise<T> {
  if (storage.localPath) return use(storage.localPath(key));
  const dir = await mkdtemp(join(tmpdir(), 'reelay-blob-'));
  try {
    const file = join(dir, 'blob');
    await pipeline(storage.stream(key), createWriteStream(file), { signal });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
