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
  it('removes uploads not uploaded again within the retention, never one an unfinished job names', async () => {
    const unused = await asset(40);
    const ofRunningJob = await asset(40);
    await jobNaming(ofRunningJob, 'running', 40);
    const ofQueuedJob = await asset(40);
    await jobNaming(ofQueuedJob, 'queued', 0);
    const ofFinishedJob = await asset(40);
    await jobNaming(ofFinishedJob, 'succeeded', 1);
    const uploadedLately = await asset(1);

    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 2, more: false });
    expect(await stored()).toEqual([ofRunningJob, ofQueuedJob, uploadedLately].sort());
    // Its description goes with it.
    expect(await readdir(join(dir, 'assets'))).not.toContain(`${unused}.meta.json`);
  });

  it('stops at its limit and says more are due', async () => {
    await Promise.all([asset(40), asset(40), asset(40)]);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY, 2)).toEqual({ removed: 2, more: true });
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY, 2)).toEqual({ removed: 1, more: false });
  });

  it('removes nothing while the job list trails the log (a rebuild), since it cannot tell which images are in use', async () => {
    const old = await asset(40);
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) SELECT 'other-' || g, 1, gen_random_uuid(), 'Other', 1, '{}' FROM generate_series(1, 2500) g`);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 0, more: false, skipped: true });
    expect(await stored()).toContain(old);
    // Caught up: the round goes on.
    await ds.query(`INSERT INTO checkpoints (name, transaction_id, global_position) SELECT 'job_view', '0'::xid8, max(global_position) FROM events`);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 1, more: false });
  });
});
