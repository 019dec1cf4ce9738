import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobInfo, BlobStorage } from './blob-storage';
import { SyncGroup } from './sync-group';

/**
 * Blobs as files under one directory, each with a JSON sidecar for its type and metadata.
 * Writes go to a temporary name and are renamed into place, so a reader never sees half a file.
 * Both files and their directory are fsynced before `put` returns: a caller records "output
 * stored" in the event log (fsynced by PostgreSQL) right after, and a power loss must not leave
 * that event pointing at a file the page cache never wrote.
 */
export class LocalStorage implements BlobStorage {
  private readonly root: string;
  /**
   * Directories made durable by this process (outputs/, assets/), or being made so: no mkdir per
   * write, and a put racing the one that creates a directory waits for the same sync.
   */
  private readonly dirs = new Map<string, Promise<void>>();
  /** One group commit per directory for the sync that makes its renames durable (see SyncGroup). */
  private readonly dirSyncs = new Map<string, SyncGroup>();
  private writes = 0;

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
    const dir = dirname(path);
    const tmp = `${path}.${process.pid}.${Date.now()}.${++this.writes}.tmp`;
    const metaTmp = `${tmp}.meta`;
    const meta = Buffer.from(JSON.stringify({ contentType: info.contentType, metadata: info.metadata ?? {} }));
    try {
      // The blob and its sidecar are written and synced side by side: each filesystem call is a
      // trip through libuv's thread pool, and under load those trips are most of a copy's time.
      const [blob, sidecar] = await this.inDirectory(dir, () =>
        Promise.allSettled([writeSynced(tmp, Buffer.isBuffer(data) ? [data] : data), writeSynced(metaTmp, [meta])]),
      );
      if (blob.status === 'rejected') throw blob.reason;
      if (sidecar.status === 'rejected') throw sidecar.reason;
      // The sidecar first: `stat` answers only when the blob itself is in place.
      await rename(metaTmp, `${path}.meta.json`);
      await rename(tmp, path);
      await this.syncDirectory(dir);
      return { bytes: blob.value, contentType: info.contentType };
    } catch (err) {
      if (!Buffer.isBuffer(data)) data.destroy(); // e.g. a download: close it now, not at its timeout
      await Promise.all([rm(tmp, { force: true }), rm(metaTmp, { force: true })]);
      throw err;
    }
  }

  private syncDirectory(dir: string): Promise<void> {
    let group = this.dirSyncs.get(dir);
    if (!group) this.dirSyncs.set(dir, (group = new SyncGroup(() => fsync(dir))));
    return group.request();
  }

  /** Runs `write` in `dir`, creating the directory the first time (or again if it vanished). */
  private async inDirectory<T extends PromiseSettledResult<unknown>[]>(dir: string, write: () => Promise<T>): Promise<T> {
    await (this.dirs.get(dir) ?? this.makeDirectory(dir));
    const written = await write();
    // Only a blob that could not be opened (so its data was not read yet) can be written again.
    const [blob] = written;
    if (!(blob?.status === 'rejected' && (blob.reason as NodeJS.ErrnoException).code === 'ENOENT')) return written;
    await this.makeDirectory(dir);
    return write();
  }

  /**
   * Creates `dir` and the parents it lacks, and syncs every ancestor up to the root: a new
   * directory's name is an entry in its parent, and without that sync a power loss can drop the
   * directory with the file put into it. All of them, once per process, because a put that finds
   * the directory already there cannot tell whether its creator's sync has finished.
   */
  private makeDirectory(dir: string): Promise<void> {
    const made = (async () => {
      await mkdir(dir, { recursive: true });
      const parents: string[] = [];
      for (let d = dir; d !== this.root && d !== dirname(d); d = dirname(d)) parents.push(dirname(d));
      await Promise.all(parents.map(fsync));
    })();
    this.dirs.set(dir, made);
    made.catch(() => this.dirs.get(dir) === made && this.dirs.delete(dir)); // tried again by the next put
    return made;
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

/** Writes `chunks` to a new file and flushes it to the device before resolving with its size. */
async function writeSynced(path: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<number> {
  const handle = await open(path, 'w');
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at, chunk.length - at)).bytesWritten;
      bytes += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}
