import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, outputKey, posterKey } from '@reelay/storage';
import type { PollingMetrics } from '../shared/polling-metrics';
import { removeDeletedOutput } from './remove-deleted-output.handler';

const metrics = { outputsDeleted: { inc: () => undefined } } as unknown as PollingMetrics;

describe('removeDeletedOutput', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'remove-deleted-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given a deleted video with a poster made of it, then both files go and other jobs keep theirs', async () => {
    const storage = new LocalStorage(dir);
    for (const jobId of ['job_a', 'job_b']) {
      await storage.put(outputKey(jobId), Buffer.from('video'));
      await storage.put(posterKey(jobId), Buffer.from('still'));
    }
    await removeDeletedOutput({ storage, metrics }, 'job_a', { reason: 'user', at: new Date().toISOString() });
    expect((await readdir(join(dir, 'outputs'))).sort()).toEqual(['job_b.mp4', 'job_b.poster.webp']);
    // Delivered again: nothing left to remove is no error.
    await expect(removeDeletedOutput({ storage, metrics }, 'job_a', { reason: 'retention', at: new Date().toISOString() })).resolves.toBeUndefined();
  });
});
