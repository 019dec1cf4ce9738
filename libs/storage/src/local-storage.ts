import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobDescription, BlobStat, BlobStorage, OpenBlob, PutGuards } from './blob-storage';
import { SyncGroup } from './sync-group';

/**
 * Bytes gathered before one write. A download arrives in reads of 16–64 KiB, and every write is a
 * trip through libuv's thread pool, which many copies at once queue for; the cap bounds what one
 * copy holds in memory.
 */
const WRITE_BATCH_BYTES = 256 * 1024;

export interface LocalStorageOptions {
  /**
   * Told how long each durable step of a put took: `file` is one file's fsync, `directory` is the
   * put's wait for a directory sync that covers its rename (shared with the puts around it).
   */
  observeSync?: (target: 'file' | 'directory', seconds: number) => void;
}

/**
 * Blobs as files under one directory; a described blob also has a JSON sidecar for its type and
 * metadata. Writes go to a temporary name and are renamed into place, so a reader never sees half
 * a file. The files and their directory are fsynced before `put` returns: a caller records "output
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

  constructor(
    root: string,
    private readonly options: LocalStorageOptions = {},
  ) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/.test(key) || key.includes('..')) throw new Error(`Invalid storage key: ${key}`);
    const p = join(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`Invalid storage key: ${key}`);
    return p;
  }

  async put(key: string, data: Buffer | Readable, description?: BlobDescription, guards: PutGuards = {}): Promise<{ bytes: number; kept?: true }> {
    const path = this.path(key);
    if (description && guards.keepExisting) throw new Error('keepExisting is for plain blobs: a kept blob would get the new description');
    const dir = dirname(path);
    // Unique across replicas sharing the volume (in containers every one is pid 1, and each counts
    // from 0), and opened exclusively: two puts must never write into one file.
    const tmp = `${path}.${randomUUID()}.tmp`;
    const sidecar = description && { tmp: `${tmp}.meta`, data: Buffer.from(JSON.stringify({ contentType: description.contentType, metadata: description.metadata ?? {} })) };
    try {
      // A blob and its sidecar are written and synced side by side: each filesystem call is a trip
      // through libuv's thread pool, and under load those trips are most of a copy's time.
      const written = await this.inDirectory(dir, () =>
        Promise.allSettled([this.writeSynced(tmp, Buffer.isBuffer(data) ? [data] : data), ...(sidecar ? [this.writeSynced(sidecar.tmp, [sidecar.data])] : [])]),
      );
      for (const w of written) if (w.status === 'rejected') throw w.reason;
      const bytes = (written[0] as PromiseFulfilledResult<number>).value;
      await guards.accept?.();
      // The sidecar first: a described blob in place always has its description.
      if (sidecar) await rename(sidecar.tmp, `${path}.meta.json`);
      if (!guards.keepExisting) await rename(tmp, path);
      else if (!(await placeUnlessTaken(tmp, path))) {
        await rm(tmp, { force: true });
        // The kept blob's putter may have died before its directory sync: the caller is about to
        // rely on that name, so it must be durable now too (a group sync, shared with other puts).
        await this.timed('directory', this.syncDirectory(dir));
        return { bytes, kept: true };
      }
      await this.timed('directory', this.syncDirectory(dir));
      return { bytes };
    } catch (err) {
      if (!Buffer.isBuffer(data)) data.destroy(); // e.g. a download: close it now, not at its timeout
      await Promise.all([rm(tmp, { force: true }), sidecar && rm(sidecar.tmp, { force: true })]);
      throw err;
    }
  }

  private async timed(target: 'file' | 'directory', sync: Promise<void>): Promise<void> {
    const started = performance.now();
    await sync;
    this.options.observeSync?.(target, (performance.now() - started) / 1000);
  }

  /** Writes `chunks` to a new file and flushes it to the device before resolving with its size. */
  private async writeSynced(path: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<number> {
    const handle = await open(path, 'wx');
    try {
      const bytes = await writeInBatches(handle, chunks);
      await this.timed('file', handle.sync());
      return bytes;
    } finally {
      await handle.close();
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

  async remove(key: string): Promise<void> {
    const path = this.path(key);
    // The blob before its description, the reverse of put: a blob in place always has its description.
    const blob = await unlink(path).then(() => true, ifMissing(false));
    const description = await unlink(`${path}.meta.json`).then(() => true, ifMissing(false));
    // Removed for good only once the directory is synced: a power loss could bring the blob back. Nothing
    // removed, nothing to sync (polling removes the output of every failed job, and may find no directory).
    if (blob || description) await this.syncDirectory(dirname(path));
  }

  /**
   * A blob still old is taken away from `key` by renaming it (atomic: a put landing meanwhile places
   * a new file, never this one), then its age is judged again: one put again between the first
   * look and the rename is young and goes back, unless yet another put has taken `key` since. A
   * young blob is never moved, so readers do not miss an image just uploaded again. The description
   * goes only while it is old too (a put writes its new description before its blob). A crash in
   * between leaves a `.tmp` file that sweepAbandoned removes.
   */
  async removeIfOlderThan(key: string, olderThanMs: number): Promise<boolean> {
    const path = this.path(key);
    const isOld = (file: string) => stat(file).then((st) => Date.now() - st.mtimeMs >= olderThanMs, ifMissing(null));
    if (!(await isOld(path))) return false;
    const taken = await takeAside(path, isOld);
    if (taken === null) return false;
    await rm(taken, { force: true });
    // The description the same way: a put again since the blob was taken writes a new one, which must stay.
    const meta = await takeAside(`${path}.meta.json`, isOld);
    if (meta) await rm(meta, { force: true });
    await this.syncDirectory(dirname(path));
    return true;
  }

  /**
   * Removes the temporary files of puts cut off by a crash or a kill (a put in flight keeps writing
   * to its file, so one untouched for `olderThanMs` is abandoned), and descriptions left without
   * their blob (a crash between a put's two renames, or between a removal's two unlinks). Returns
   * how many were removed.
   */
  async sweepAbandoned(prefix: string, olderThanMs: number, now = Date.now()): Promise<number> {
    // Read entry by entry: the outputs directory may hold millions of files, and this runs on every replica.
    const dir = await opendir(this.path(prefix)).catch(ifMissing(null));
    if (!dir) return 0;
    let removed = 0;
    for await (const { name } of dir) {
      if (name.endsWith('.meta.json')) {
        if (await removeOrphanDescription(join(dir.path, name), olderThanMs, now)) removed++;
        continue;
      }
      if (!name.endsWith('.tmp') && !name.endsWith('.tmp.meta')) continue;
      const file = join(dir.path, name);
      const modified = await stat(file).then((st) => st.mtimeMs, ifMissing(null));
      if (modified === null || now - modified < olderThanMs) continue;
      await rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  async *listOlderThan(prefix: string, olderThanMs: number, skip?: (key: string) => boolean): AsyncIterable<string> {
    const dir = await opendir(this.path(prefix)).catch(ifMissing(null));
    if (!dir) return;
    for await (const entry of dir) {
      if (!entry.isFile() || entry.name.endsWith('.tmp') || entry.name.endsWith('.tmp.meta') || entry.name.endsWith('.meta.json')) continue;
      const key = `${prefix}/${entry.name}`;
      if (skip?.(key)) continue;
      const modified = await stat(join(dir.path, entry.name)).then((st) => st.mtimeMs, ifMissing(null));
      if (modified !== null && Date.now() - modified >= olderThanMs) yield key;
    }
  }

  /** The blob's data is on the device once its put wrote it; its name is once its directory is synced. */
  async makeDurable(key: string): Promise<void> {
    await this.timed('directory', this.syncDirectory(dirname(this.path(key))));
  }

  async stat(key: string): Promise<BlobStat | null> {
    const path = this.path(key);
    const [size, description] = await Promise.all([
      stat(path).then((st) => st.size, ifMissing(null)),
      readFile(`${path}.meta.json`, 'utf8').then((meta) => JSON.parse(meta) as { contentType: string; metadata?: Record<string, unknown> }, ifMissing(null)),
    ]);
    if (size === null) return null;
    return { bytes: size, contentType: description?.contentType ?? null, metadata: description?.metadata ?? {} };
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  stream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(key), range);
  }

  async open(key: string): Promise<OpenBlob | null> {
    const handle = await open(this.path(key), 'r').catch(ifMissing(null));
    if (!handle) return null;
    const { size } = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    return {
      bytes: size,
      stream: (range) => handle.createReadStream({ ...range, autoClose: true }),
      close: () => handle.close(),
    };
  }

  localPath(key: string): string {
    return this.path(key);
  }
}

/**
 * Renames `file` aside while `isOld` holds before and after the rename (atomic: a put landing
 * meanwhile places a new file, never this one). Returns the name it was moved to, or null when it is
 * missing or young; one put again between the first look and the rename is young and goes back.
 */
async function takeAside(file: string, isOld: (file: string) => Promise<boolean | null>): Promise<string | null> {
  if (!(await isOld(file))) return null;
  const taken = `${file}.${randomUUID()}.removing.tmp`;
  if (!(await rename(file, taken).then(() => true, ifMissing(false)))) return null;
  if ((await isOld(taken)) === false) {
    await putBack(taken, file);
    return null;
  }
  return taken;
}

/**
 * A description whose blob is missing, written at least `olderThanMs` ago: a put places the
 * description a moment before its blob, and an upload takes minutes at most. Taken aside before it
 * is judged again, so a put that places the blob (or a new description) meanwhile keeps it.
 */
async function removeOrphanDescription(file: string, olderThanMs: number, now: number): Promise<boolean> {
  const blob = file.slice(0, -'.meta.json'.length);
  const orphaned = async (description: string) => {
    const written = await stat(description).then((st) => st.mtimeMs, ifMissing(null));
    if (written === null) return null;
    return now - written >= olderThanMs && !(await stat(blob).then(() => true, ifMissing(false)));
  };
  const taken = await takeAside(file, orphaned);
  if (taken === null) return false;
  await rm(taken, { force: true });
  return true;
}

/** Moves `taken` back to `path` unless a newer blob took `path` meanwhile (then `taken` is dropped). */
async function putBack(taken: string, path: string): Promise<void> {
  if (!(await placeUnlessTaken(taken, path))) await rm(taken, { force: true });
}

/**
 * Moves `tmp` to `path` unless `path` exists; returns whether it moved. link() fails on an existing
 * name where rename() would replace it, so no check-then-rename race can drop a blob that appeared
 * in between. A filesystem without hard links falls back to that race.
 */
async function placeUnlessTaken(tmp: string, path: string): Promise<boolean> {
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await stat(path).then(() => true, ifMissing(false))) return false;
    await rename(tmp, path);
    return true;
  }
  await unlink(tmp);
  return true;
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Flushes a file's (or a directory's entries') data to the device. */
async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `fallback` for a file that does not exist; any other error is thrown on. */
function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return fallback;
    throw err;
  };
}

/** Writes `chunks` to `handle` in writes of up to WRITE_BATCH_BYTES; resolves with the size written. */
async function writeInBatches(handle: FileHandle, chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<number> {
  let bytes = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    const buf = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    for (let at = 0; at < buf.length; ) at += (await handle.write(buf, at, buf.length - at)).bytesWritten;
  };
  for await (const chunk of chunks) {
    batch.push(chunk);
    batched += chunk.length;
    bytes += chunk.length;
    if (batched >= WRITE_BATCH_BYTES) await flush();
  }
  if (batched > 0) await flush();
  return bytes;
}
