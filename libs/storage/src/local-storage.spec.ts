import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { LocalStorage } from './local-storage';

describe('local storage', () => {
  const storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'reelay-storage-')));

  it('stores bytes with type and metadata and reads them back, also by range', async () => {
    await storage.put('outputs/job_1.mp4', Buffer.from('0123456789'), { contentType: 'video/mp4', metadata: { userId: 'u1' } });
    expect(await storage.stat('outputs/job_1.mp4')).toEqual({ bytes: 10, contentType: 'video/mp4', metadata: { userId: 'u1' } });
    expect((await storage.read('outputs/job_1.mp4')).toString()).toBe('0123456789');
    expect(await text(storage.stream('outputs/job_1.mp4', { start: 2, end: 4 }))).toBe('234');
  });
  it('answers null for a missing blob', async () => {
    expect(await storage.stat('outputs/none.mp4')).toBeNull();
  });
  it('refuses keys that try to leave the root', async () => {
    await expect(storage.stat('../etc/passwd')).rejects.toThrow(/Invalid storage key/);
    await expect(storage.put('assets/../../x', Buffer.from(''), { contentType: 'x' })).rejects.toThrow(/Invalid storage key/);
  });
});
