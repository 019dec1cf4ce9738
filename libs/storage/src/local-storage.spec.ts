import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  it('answers null for a missing blob', async () => {
    expect(await storage.stat('outputs/none.mp4')).toBeNull();
  });
  it('refuses keys that try to leave the root', async () => {
    await expect(storage.stat('../etc/passwd')).rejects.toThrow(/Invalid storage key/);
    await expect(storage.put('assets/../../x', Buffer.from(''), { contentType: 'x' })).rejects.toThrow(/Invalid storage key/);
  });
});
