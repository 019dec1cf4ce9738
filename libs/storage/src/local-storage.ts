import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStorage } from './blob-storage';

/**
 * Blobs as files under one directory, each with a JSON sidecar for its type and metadata.
 * Writes go to a temporary name and are renamed into place, so a reader never sees half a file.
 * Both files and their directory are fsynced before `put` returns: a caller records "output
 * stored" in the event log (fsynced by PostgreSQL) right after, and a power loss must not leave
 * that event pointing at a file the page cache never wrote.
 */
export class LocalStorage implements BlobStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/.test(key) || key.includes('..')) throw new Error(`Invalid storage key: ${key}`);
    const p = join(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`Invalid storage key: ${key}`);
    return p;
  }

  async put(key: string, data: Buffer | Readable, info: { contentType: string; metadata?: Record<string, unknown> }): Promise<BlobInfo> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : data, createWriteStream(tmp));
    const { size } = await stat(tmp);
    const metaTmp = `${tmp}.meta`;
    await writeFile(metaTmp, JSON.stringify({ contentType: info.contentType, bytes: size, metadata: info.metadata ?? {} }));
    await Promise.all([fsync(tmp), fsync(metaTmp)]);
    // The sidecar first: `stat` answers only when the blob itself is in place.
    await rename(metaTmp, `${path}.meta.json`);
    await rename(tmp, path);
    await fsync(dirname(path));
    return { bytes: size, contentType: info.contentType };
  }

  async stat(key: string) {
    try {
      const [meta, st] = await Promise.all([readFile(`${this.path(key)}.meta.json`, 'utf8'), stat(this.path(key))]);
      const parsed = JSON.parse(meta) as { contentType: string; metadata: Record<string, unknown> };
      return { bytes: st.size, contentType: parsed.contentType, metadata: parsed.metadata ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  stream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(key), range);
  }
}

/** Flushes a file's (or a directory's entries') data to the device. */
async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
