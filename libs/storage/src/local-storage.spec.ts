import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalStorage } from './local-storage';

describe('local storage', () => {
  const root = mkdtempSync(join(tmpdir(), 'reelay-storage-'));
  const storage = new LocalStorage(root);

  it('stores bytes with type and metadata and reads them back, also by range', async () => {
    await storage.put('assets/a0', Buffer.from('0123456789'), { contentType: 'image/png', metadata: { userId: 'u1' } });
    expect(await storage.stat('assets/a0')).toEqual({ bytes: 10, contentType: 'image/png', metadata: { userId: 'u1' } });
    expect((await storage.read('assets/a0')).toString()).toBe('0123456789');
    expect(await text(storage.stream('assets/a0', { start: 2, end: 4 }))).toBe('234');
  });
  it('stores a plain blob as one file, with its size and no description', async () => {
    expect(await storage.put('outputs/job_1.mp4', Buffer.from('0123456789'))).toEqual({ bytes: 10 });
    expect(await storage.stat('outputs/job_1.mp4')).toEqual({ bytes: 10, contentType: null, metadata: {} });
    expect(readdirSync(join(root, 'outputs')).filter((f) => f.startsWith('job_1.'))).toEqual(['job_1.mp4']);
    expect(await text(storage.stream('outputs/job_1.mp4', { start: 7, end: 9 }))).toBe('789');
  });
  it('opens a blob whose size and bytes stay one version while it is removed or replaced', async () => {
    expect(await storage.open('outputs/job_none.mp4')).toBeNull();
    await storage.put('outputs/job_open.mp4', Buffer.from('0123456789'));
    const removed = await storage.open('outputs/job_open.mp4');
    const replaced = await storage.open('outputs/job_open.mp4');
    const unread = await storage.open('outputs/job_open.mp4');
    await storage.remove('outputs/job_open.mp4');
    expect(removed?.bytes).toBe(10);
    expect(await text(removed!.stream({ start: 3, end: 9 }))).toBe('3456789');
    await storage.put('outputs/job_open.mp4', Buffer.from('a longer replacement'));
    expect(replaced?.bytes).toBe(10);
    expect(await text(replaced!.stream())).toBe('0123456789');
    await unread!.close();
    const again = await storage.open('outputs/job_open.mp4');
    expect(again?.bytes).toBe(20);
    await again!.close();
  });
  it('writes a streamed blob whole, however its chunks are cut', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000 + i, i));
    expect(await storage.put('outputs/job_6.mp4', Readable.from(chunks))).toEqual({ bytes: 501_225 });
    expect((await storage.read('outputs/job_6.mp4')).equals(Buffer.concat(chunks))).toBe(true);
  });
  it('streams a blob in, and leaves nothing behind when the stream fails midway', async () => {
    async function* chunks(fail: boolean) {
      yield Buffer.from('abc');
      if (fail) throw new Error('download broke');
      yield Buffer.from('def');
    }
    expect(await storage.put('outputs/job_2.mp4', Readable.from(chunks(false)), { contentType: 'video/mp4' })).toEqual({ bytes: 6 });
    await expect(storage.put('outputs/job_3.mp4', Readable.from(chunks(true)), { contentType: 'video/mp4' })).rejects.toThrow('download broke');
    expect(await storage.stat('outputs/job_3.mp4')).toBeNull();
    // A source that cannot be written is closed at once (a download must not stay open).
    const source = Readable.from(chunks(false));
    const notADirectory = join(root, 'outputs', 'job_2.mp4'); // a file: nothing can be created under it
    await expect(new LocalStorage(notADirectory).put('outputs/x.mp4', source, { contentType: 'video/mp4' })).rejects.toThrow();
    expect(source.destroyed).toBe(true);
    expect(readdirSync(join(root, 'outputs')).filter((f) => f.includes('tmp'))).toEqual([]);
  });
  it('leaves no temporary files when the blob cannot be moved into place', async () => {
    mkdirSync(join(root, 'outputs', 'job_5.mp4', 'in-the-way'), { recursive: true }); // a non-empty directory at the key
    await expect(storage.put('outputs/job_5.mp4', Buffer.from('abc'), { contentType: 'video/mp4' })).rejects.toThrow();
    expect(readdirSync(join(root, 'outputs')).filter((f) => f.includes('tmp'))).toEqual([]);
  });
  it('creates its directory again when it was removed under it', async () => {
    await storage.put('assets/a1', Buffer.from('x'), { contentType: 'image/png' });
    rmSync(join(root, 'assets'), { recursive: true });
    await storage.put('assets/a2', Buffer.from('y'), { contentType: 'image/png' });
    expect((await storage.read('assets/a2')).toString()).toBe('y');
  });
  it('removes a blob with its description, and takes a missing one for removed', async () => {
    await storage.put('assets/gone', Buffer.from('x'), { contentType: 'image/png' });
    await storage.put('outputs/gone.mp4', Buffer.from('y'));
    await storage.remove('assets/gone');
    await storage.remove('outputs/gone.mp4');
    expect(await storage.stat('assets/gone')).toBeNull();
    expect(await storage.stat('outputs/gone.mp4')).toBeNull();
    expect(readdirSync(join(root, 'assets')).filter((f) => f.startsWith('gone'))).toEqual([]);
    await expect(storage.remove('outputs/never.mp4')).resolves.toBeUndefined();
    await expect(storage.remove('../etc/passwd')).rejects.toThrow(/Invalid storage key/);
  });
  it('takes a blob whose directory was never made for removed (a failed job that left no output)', async () => {
    await expect(new LocalStorage(join(root, 'fresh-volume')).remove('outputs/job_never.mp4')).resolves.toBeUndefined();
  });

  it('answers null for a missing blob', async () => {
    expect(await storage.stat('outputs/none.mp4')).toBeNull();
  });
  it('refuses keys that try to leave the root', async () => {
    await expect(storage.stat('../etc/passwd')).rejects.toThrow(/Invalid storage key/);
    await expect(storage.put('assets/../../x', Buffer.from(''), { contentType: 'x' })).rejects.toThrow(/Invalid storage key/);
  });
  it('given a blob the accept check refuses, then the key keeps what it held and no temporary file stays', async () => {
    await storage.put('outputs/job_g1.mp4', Buffer.from('kept'));
    const refusal = new Error('not a video');
    await expect(storage.put('outputs/job_g1.mp4', Buffer.from('<html>'), undefined, { accept: () => { throw refusal; } })).rejects.toBe(refusal);
    expect((await storage.read('outputs/job_g1.mp4')).toString()).toBe('kept');
    expect(readdirSync(join(root, 'outputs')).filter((f) => f.includes('tmp'))).toEqual([]);
  });
  it('keeps an existing blob when asked to, and replaces it otherwise', async () => {
    expect(await storage.put('outputs/job_g2.mp4', Buffer.from('first'), undefined, { keepExisting: true })).toEqual({ bytes: 5 });
    expect(await storage.put('outputs/job_g2.mp4', Buffer.from('second'), undefined, { keepExisting: true })).toEqual({ bytes: 6, kept: true });
    expect((await storage.read('outputs/job_g2.mp4')).toString()).toBe('first');
    expect(await storage.put('outputs/job_g2.mp4', Buffer.from('third'))).toEqual({ bytes: 5 });
    expect((await storage.read('outputs/job_g2.mp4')).toString()).toBe('third');
    expect(readdirSync(join(root, 'outputs')).filter((f) => f.startsWith('job_g2.'))).toEqual(['job_g2.mp4']);
  });
  it('sweeps temporary files untouched for the given time, and nothing else', async () => {
    const dir = join(root, 'sweep');
    mkdirSync(dir, { recursive: true });
    const old = new Date(Date.now() - 3_600_000);
    for (const name of ['job_s1.mp4.1.2.3.tmp', 'a1.4.5.6.tmp.meta', 'job_s2.mp4', 'job_s3.mp4.7.8.9.tmp']) writeFileSync(join(dir, name), 'x');
    for (const name of ['job_s1.mp4.1.2.3.tmp', 'a1.4.5.6.tmp.meta', 'job_s2.mp4']) utimesSync(join(dir, name), old, old);
    expect(await storage.sweepAbandoned('sweep', 600_000)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['job_s2.mp4', 'job_s3.mp4.7.8.9.tmp']);
    expect(await storage.sweepAbandoned('nothing-here', 600_000)).toBe(0);
  });

  it('sweeps a description left without its blob once it is old, and no other description', async () => {
    const old = new Date(Date.now() - 3_600_000);
    for (const key of ['orphans/cut', 'orphans/young', 'orphans/whole']) await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    // A crash between a removal's two unlinks (or a put's two renames) leaves the description alone.
    rmSync(join(root, 'orphans', 'cut'));
    rmSync(join(root, 'orphans', 'young'));
    for (const name of ['cut.meta.json', 'whole', 'whole.meta.json']) utimesSync(join(root, 'orphans', name), old, old);
    expect(await storage.sweepAbandoned('orphans', 600_000)).toBe(1);
    expect(readdirSync(join(root, 'orphans')).sort()).toEqual(['whole', 'whole.meta.json', 'young.meta.json']);
    expect(await storage.stat('orphans/whole')).toEqual({ bytes: 1, contentType: 'image/png', metadata: {} });
  });

  it('lists blobs older than an age, one key at a time, leaving out temporary files, descriptions, young blobs and skipped keys', async () => {
    const storage = new LocalStorage(root);
    const old = new Date(Date.now() - 3_600_000);
    for (const key of ['aged/a.mp4', 'aged/b.mp4', 'aged/c.mp4']) await storage.put(key, Buffer.from('x'));
    await storage.put('aged/described', Buffer.from('x'), { contentType: 'image/png' });
    writeFileSync(join(root, 'aged', 'a.mp4.1.2.3.tmp'), 'partial');
    for (const name of ['a.mp4', 'b.mp4', 'described', 'described.meta.json', 'a.mp4.1.2.3.tmp']) utimesSync(join(root, 'aged', name), old, old);
    const list = async (skip?: (key: string) => boolean) => {
      const keys: string[] = [];
      for await (const key of storage.listOlderThan('aged', 60_000, skip)) keys.push(key);
      return keys.sort();
    };
    expect(await list()).toEqual(['aged/a.mp4', 'aged/b.mp4', 'aged/described']);
    expect(await list((key) => key === 'aged/b.mp4')).toEqual(['aged/a.mp4', 'aged/described']);
    expect(await (async () => { const k: string[] = []; for await (const key of storage.listOlderThan('missing', 0)) k.push(key); return k; })()).toEqual([]);
  });

  it('removes a blob only while it is older than an age: one put again since it was listed stays, with its description', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const age = (name: string) => utimesSync(join(root, 'kept', name), old, old);
    await storage.put('kept/old', Buffer.from('x'), { contentType: 'image/png', metadata: { userId: 'u1' } });
    await storage.put('kept/again', Buffer.from('x'), { contentType: 'image/png', metadata: { userId: 'u1' } });
    for (const name of ['old', 'old.meta.json', 'again', 'again.meta.json']) age(name);
    const listed: string[] = [];
    for await (const key of storage.listOlderThan('kept', 60_000)) listed.push(key);
    expect(listed.sort()).toEqual(['kept/again', 'kept/old']);

    // Uploaded again between the listing and the removal.
    await storage.put('kept/again', Buffer.from('y'), { contentType: 'image/png', metadata: { userId: 'u1', again: true } });
    expect(await storage.removeIfOlderThan('kept/again', 60_000)).toBe(false);
    expect(await storage.removeIfOlderThan('kept/old', 60_000)).toBe(true);
    expect(await storage.removeIfOlderThan('kept/missing', 60_000)).toBe(false);

    expect(await storage.stat('kept/again')).toEqual({ bytes: 1, contentType: 'image/png', metadata: { userId: 'u1', again: true } });
    expect((await storage.read('kept/again')).toString()).toBe('y');
    expect(await storage.stat('kept/old')).toBeNull();
    expect(readdirSync(join(root, 'kept')).sort()).toEqual(['again', 'again.meta.json']);
  });

  it('leaves the description a put in progress has just written (it writes it before its blob)', async () => {
    const old = new Date(Date.now() - 3_600_000);
    await storage.put('kept/racing', Buffer.from('x'), { contentType: 'image/png', metadata: { userId: 'u1' } });
    for (const name of ['racing', 'racing.meta.json']) utimesSync(join(root, 'kept', name), old, old);
    writeFileSync(join(root, 'kept', 'racing.meta.json'), JSON.stringify({ contentType: 'image/png', metadata: { userId: 'u1', again: true } }));
    expect(await storage.removeIfOlderThan('kept/racing', 60_000)).toBe(true);
    expect(readdirSync(join(root, 'kept'))).toContain('racing.meta.json');
  });
});
