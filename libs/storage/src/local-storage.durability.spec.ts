import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths whose sync takes 50 ms longer. */
const slow = new Set<string>();
/** Renames and syncs (start and end), with the names the files had at that moment, in the order they happened. */
const timeline: string[] = [];
/** Writes per file path, and the bytes each wrote. */
const writes = new Map<string, number[]>();
/** Every fsync the storage completed, in order. */
const synced = () => timeline.filter((t) => t.startsWith('sync end ')).map((t) => t.slice('sync end '.length));
jest.mock('node:fs/promises', () => {
  const actual = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return {
    ...actual,
    open: async (path: string, flags?: string) => {
      const handle = await actual.open(path, flags);
      const sync = handle.sync.bind(handle);
      const write = handle.write.bind(handle) as (buffer: Buffer, offset: number, length: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;
      return Object.assign(handle, {
        write: async (buffer: Buffer, offset: number, length: number) => {
          const done = await write(buffer, offset, length);
          writes.set(path, [...(writes.get(path) ?? []), done.bytesWritten]);
          return done;
        },
        sync: async () => {
          timeline.push(`sync start ${path}`);
          await sync();
          if (slow.has(path)) await new Promise((r) => setTimeout(r, 50));
          timeline.push(`sync end ${path}`);
        },
      });
    },
    rename: async (from: string, to: string) => {
      await actual.rename(from, to);
      timeline.push(`rename ${to}`);
    },
    stat: async (path: string) => {
      const st = await actual.stat(path);
      afterStat.get(path)?.();
      afterStat.delete(path);
      return st;
    },
  };
});
/** Runs once right after the next stat of a path: what another process does in between. */
const afterStat = new Map<string, () => void>();

import { Readable } from 'node:stream';
import { LocalStorage } from './local-storage';

describe('local storage durability', () => {
  it('has the blob, its sidecar and their directory on the device before put resolves', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-sync-'));
    timeline.length = 0;
    await new LocalStorage(root).put('assets/a9', Buffer.from('0123456789'), { contentType: 'image/png' });
    const dir = join(root, 'assets');
    expect(synced().filter((p) => p.startsWith(`${dir}/a9.`) && p.endsWith('.tmp'))).toHaveLength(1);
    expect(synced().filter((p) => p.endsWith('.tmp.meta'))).toHaveLength(1);
    // The directory last: its entries are the renames that put the files in place.
    expect(synced().at(-1)).toBe(dir);
  });

  it('has a plain blob and its directory on the device before put resolves, with no sidecar', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-plain-'));
    timeline.length = 0;
    await new LocalStorage(root).put('outputs/job_9.mp4', Buffer.from('0123456789'));
    const dir = join(root, 'outputs');
    expect(synced().filter((p) => p.startsWith(`${dir}/job_9.mp4.`))).toEqual([expect.stringMatching(/\.tmp$/)]);
    expect(timeline.filter((t) => t.startsWith('rename '))).toEqual([`rename ${join(dir, 'job_9.mp4')}`]);
    expect(synced().at(-1)).toBe(dir);
  });

  it('given a blob kept at the key (its putter may have died before its directory sync), then the directory is synced before put resolves', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-kept-'));
    const dir = join(root, 'outputs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'job_k.mp4'), 'the first copy');
    timeline.length = 0;
    expect(await new LocalStorage(root).put('outputs/job_k.mp4', Buffer.from('a later copy'), undefined, { keepExisting: true })).toEqual({ bytes: 12, kept: true });
    expect(synced().at(-1)).toBe(dir);
  });

  it('tells its observer how long each fsync of a put took, and how long the put waited for its directory sync', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-observed-'));
    const seen: [string, number][] = [];
    const storage = new LocalStorage(root, { observeSync: (target, seconds) => seen.push([target, seconds]) });
    await storage.put('outputs/warm.mp4', Buffer.from('x')); // directory made and synced
    seen.length = 0;
    slow.add(join(root, 'outputs'));
    await storage.put('outputs/job_o.mp4', Buffer.from('0123456789'));
    await storage.put('assets/a_o', Buffer.from('0123456789'), { contentType: 'image/png' });
    slow.delete(join(root, 'outputs'));
    expect(seen.map(([target]) => target)).toEqual(['file', 'directory', 'file', 'file', 'directory']);
    expect(seen[1]![1]).toBeGreaterThanOrEqual(0.045); // the outputs/ sync takes 50 ms longer
    expect(seen.every(([, seconds]) => seconds >= 0 && seconds < 5)).toBe(true);
  });

  it('writes a download in batches of up to 256 KiB, not one write per chunk it arrived in', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-batch-'));
    writes.clear();
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 1024, i)); // 640 KiB in 16 KiB reads
    await new LocalStorage(root).put('outputs/job_b.mp4', Readable.from(chunks));
    const [blob] = [...writes].filter(([p]) => p.includes('job_b.mp4.'));
    expect(blob?.[1]).toEqual([256 * 1024, 256 * 1024, 128 * 1024]);
  });

  it('syncs the parent of every directory it creates, so a new directory survives a power loss with its file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-dirs-'));
    const storage = new LocalStorage(root);
    timeline.length = 0;
    await storage.put('outputs/a/b/job_1.mp4', Buffer.from('x'), { contentType: 'video/mp4' });
    expect(synced().filter((p) => !p.endsWith('.tmp') && !p.endsWith('.meta')).sort()).toEqual([root, join(root, 'outputs'), join(root, 'outputs/a'), join(root, 'outputs/a/b')].sort());
    timeline.length = 0;
    await storage.put('outputs/a/job_2.mp4', Buffer.from('x'), { contentType: 'video/mp4' });
    // outputs/a existed already, but this process had not synced its ancestors yet.
    expect(synced().filter((p) => !p.endsWith('.tmp') && !p.endsWith('.meta')).sort()).toEqual([root, join(root, 'outputs'), join(root, 'outputs/a')].sort());
    timeline.length = 0;
    await storage.put('outputs/a/job_3.mp4', Buffer.from('x'), { contentType: 'video/mp4' });
    expect(synced().filter((p) => !p.endsWith('.tmp') && !p.endsWith('.meta'))).toEqual([join(root, 'outputs/a')]);
  });

  it('a put racing the one that creates a directory waits for that directory to be synced', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-race-'));
    const storage = new LocalStorage(root);
    timeline.length = 0;
    slow.add(root);
    await Promise.all([0, 1, 2].map((i) => storage.put(`outputs/job_${i}.mp4`, Buffer.from('x'), { contentType: 'video/mp4' }).then(() => timeline.push('resolved'))));
    // outputs/ is on the device before any of the three puts resolves, and its parent is synced once.
    expect(synced().filter((p) => p === root)).toHaveLength(1);
    expect(timeline.indexOf(`sync end ${root}`)).toBeLessThan(timeline.indexOf('resolved'));
  });

  it('puts finishing together share directory syncs, and each resolves only after a sync that started after its renames', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-group-'));
    const storage = new LocalStorage(root);
    const dir = join(root, 'outputs');
    await storage.put('outputs/warm.mp4', Buffer.from('x'), { contentType: 'video/mp4' }); // directory made and synced
    timeline.length = 0;
    slow.add(dir);
    const puts = 12;
    await Promise.all(
      Array.from({ length: puts }, (_, i) =>
        storage.put(`outputs/job_g${i}.mp4`, Buffer.from('x'), { contentType: 'video/mp4' }).then(() => timeline.push(`resolved ${i}`)),
      ),
    );
    slow.delete(dir);
    for (let i = 0; i < puts; i++) {
      const renamed = timeline.indexOf(`rename ${join(dir, `job_g${i}.mp4`)}`);
      const resolved = timeline.indexOf(`resolved ${i}`);
      // the last sync of the directory to end before this put resolved started after its rename
      const syncEnd = timeline.lastIndexOf(`sync end ${dir}`, resolved);
      const syncStart = timeline.lastIndexOf(`sync start ${dir}`, syncEnd);
      expect(renamed).toBeGreaterThanOrEqual(0);
      expect(syncStart).toBeGreaterThan(renamed);
    }
    expect(timeline.filter((t) => t === `sync start ${dir}`).length).toBeLessThan(puts);
  });
  it('removes a description only while it is old: one a put again writes right after its age was read stays', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-meta-race-'));
    const storage = new LocalStorage(root);
    await storage.put('assets/a1', Buffer.from('x'), { contentType: 'image/png', metadata: { userId: 'u1' } });
    const old = new Date(Date.now() - 3_600_000);
    const file = join(root, 'assets', 'a1');
    for (const f of [file, `${file}.meta.json`]) utimesSync(f, old, old);
    const again = JSON.stringify({ contentType: 'image/png', metadata: { userId: 'u1', again: true } });
    afterStat.set(`${file}.meta.json`, () => writeFileSync(`${file}.meta.json`, again));

    expect(await storage.removeIfOlderThan('assets/a1', 60_000)).toBe(true);
    expect(readFileSync(`${file}.meta.json`, 'utf8')).toBe(again);
  });

  it('syncs the directory after a removal, so a power loss cannot bring a deleted blob back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-remove-'));
    const storage = new LocalStorage(root);
    await storage.put('assets/a2', Buffer.from('x'), { contentType: 'image/png' });
    timeline.length = 0;
    await storage.remove('assets/a2');
    expect(synced()).toEqual([join(root, 'assets')]);
  });

  it('gives puts of one key temporary files of their own, even from storages that count alike in the same millisecond (replicas are each pid 1)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'reelay-storage-tmp-'));
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    try {
      const a = Buffer.alloc(600_000, 'a');
      const b = Buffer.alloc(600_000, 'b');
      const [x, y] = await Promise.all([new LocalStorage(root).put('outputs/o1', Readable.from([a.subarray(0, 300_000), a.subarray(300_000)]), undefined, { keepExisting: true }), new LocalStorage(root).put('outputs/o1', Readable.from([b]), undefined, { keepExisting: true })]);
      expect([x.kept, y.kept].filter(Boolean)).toHaveLength(1);
      const kept = readFileSync(join(root, 'outputs', 'o1'));
      expect(kept.equals(x.kept ? b : a)).toBe(true);
    } finally {
      now.mockRestore();
    }
  });
});
