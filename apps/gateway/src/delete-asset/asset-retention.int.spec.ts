import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource, runMigrations } from '@reelay/event-store';
import { assetKey, LocalStorage } from '@reelay/storage';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { sweepUnusedAssets } from './asset-retention';

const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY);

let db: TestDatabase;
let ds: DataSource;
let dir: string;
let storage: LocalStorage;

beforeAll(async () => {
  db = await createTestDatabase('assetretention');
  ds = await createDataSource(db.url, { poolSize: 2 }).initialize();
  await runMigrations(ds);
  dir = await mkdtemp(join(tmpdir(), 'reelay-asset-retention-'));
  storage = new LocalStorage(dir);
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function asset(uploadedDaysAgo: number): Promise<string> {
  const id = `asset_${String(++n).padStart(10, 'A')}`;
  await storage.put(assetKey(id), Buffer.from('png bytes'), { contentType: 'image/png', metadata: { userId: 'u1' } });
  await utimes(join(dir, assetKey(id)), daysAgo(uploadedDaysAgo), daysAgo(uploadedDaysAgo));
  return id;
}
async function jobNaming(assetId: string, status: string, createdDaysAgo: number): Promise<void> {
  const jobId = `job_${assetId}`;
  await ds.query(
    `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job) VALUES ($1, 'u1', $2, '', 'gen4.5', $3, $3, 1, $4)`,
    [jobId, status, daysAgo(createdDaysAgo), JSON.stringify({ id: jobId, referenceImage: { assetId } })],
  );
}
const stored = async () => (await readdir(join(dir, 'assets'))).filter((f) => !f.endsWith('.meta.json')).sort();

describe('sweepUnusedAssets (PostgreSQL job_view, files on disk)', () => {
  it('removes uploads neither uploaded again nor named by a job within the retention, never one an unfinished job needs', async () => {
    const unused = await asset(40);
    const ofRunningJob = await asset(40);
    await jobNaming(ofRunningJob, 'running', 40);
    const usedLongAgo = await asset(40);
    await jobNaming(usedLongAgo, 'succeeded', 35);
    const usedLately = await asset(40);
    await jobNaming(usedLately, 'failed', 1);
    const uploadedLately = await asset(1);

    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 2, more: false });
    expect(await stored()).toEqual([ofRunningJob, usedLately, uploadedLately].sort());
    // Its description goes with it.
    expect(await readdir(join(dir, 'assets'))).not.toContain(`${unused}.meta.json`);
  });

  it('stops at its limit and says more are due', async () => {
    await Promise.all([asset(40), asset(40), asset(40)]);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY, 2)).toEqual({ removed: 2, more: true });
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY, 2)).toEqual({ removed: 1, more: false });
  });
});
