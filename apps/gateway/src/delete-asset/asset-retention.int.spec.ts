import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMigrated, rebuildMarkName, rebuildProjection } from '@reelay/event-store';
import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { assetKey, LocalStorage } from '@reelay/storage';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import type { GatewayDeps } from '../gateway-deps';
import { jobUsingImage, sweepUnusedAssets } from './asset-retention';
import { DeleteAssetController } from './delete-asset.controller';

const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY);

let db: TestDatabase;
let ds: DataSource;
let dir: string;
let storage: LocalStorage;

beforeAll(async () => {
  db = await createTestDatabase('assetretention');
  ds = await openMigrated(db.url, { poolSize: 2 });
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
  for (const file of [assetKey(id), `${assetKey(id)}.meta.json`]) await utimes(join(dir, file), daysAgo(uploadedDaysAgo), daysAgo(uploadedDaysAgo));
  return id;
}
async function jobNaming(assetId: string, status: string, createdDaysAgo: number, fittedAssetId?: string): Promise<void> {
  const jobId = `job_${assetId}`;
  const fitted = fittedAssetId ? { referenceImageFitted: { assetId: fittedAssetId, width: 1280, height: 720, cropped: true } } : {};
  await ds.query(
    `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job) VALUES ($1, 'u1', $2, '', 'gen4.5', $3, $3, 1, $4)`,
    [jobId, status, daysAgo(createdDaysAgo), JSON.stringify({ id: jobId, referenceImage: { assetId }, ...fitted })],
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
    // The copy intake fitted to the model for a job that waits (for capacity, say) is in use too.
    const fittedForWaitingJob = await asset(40);
    await jobNaming(await asset(1), 'validating', 40, fittedForWaitingJob);

    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 2, more: false });
    expect(await stored()).toEqual([ofRunningJob, ofQueuedJob, uploadedLately, fittedForWaitingJob, `asset_${String(n).padStart(10, 'A')}`].sort());
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
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) SELECT 'other-' || g, 1, gen_random_uuid(), 'Other', 1, '{}' FROM generate_series(1, 25000) g`);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 0, more: false, skipped: true });
    expect(await stored()).toContain(old);
    // Caught up: the round goes on.
    await ds.query(`INSERT INTO checkpoints (name, transaction_id, global_position) SELECT 'job_view', '0'::xid8, max(global_position) FROM events`);
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 1, more: false });
  });

  it('keeps an image a job submitted a moment ago names, before the job list shows that job; the owner’s delete answers 409 naming it', async () => {
    const named = await asset(40);
    await ds.query(`INSERT INTO checkpoints (name, transaction_id, global_position) SELECT 'job_view', pg_current_xact_id(), max(global_position) FROM events
      ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`);
    const submitted = async (assetId: string, userId: string) => {
      const jobId = `job_fresh_${assetId}_${userId}`;
      await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ($1, 1, gen_random_uuid(), 'JobSubmitted', 1, $2)`, [
        `job-${jobId}`, JSON.stringify({ jobId, userId, referenceImage: { assetId } }),
      ]);
      return jobId;
    };
    const jobId = await submitted(named, 'u1');
    const unused = await asset(40);
    await submitted(unused, 'u2'); // another user's job cannot name u1's image: only the owner's delete ignores it

    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toEqual({ removed: 0, more: false });
    expect(await stored()).toEqual(expect.arrayContaining([named, unused]));
    const controller = new DeleteAssetController({ storage, dataSource: ds } as unknown as GatewayDeps);
    await expect(controller.remove('u1', named)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining(jobId) });
    await controller.remove('u1', unused);
    expect(await stored()).not.toContain(unused);

    // A fitted copy that a job validated a moment ago names (JobValidated, not yet in job_view) is in use too.
    const fittedCopy = await asset(40);
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ('job-job_fitted_now', 2, gen_random_uuid(), 'JobValidated', 1, $1)`, [
      JSON.stringify({ at: new Date().toISOString(), referenceImage: { contentType: 'image/png', bytes: 9, width: 1200, height: 400, fitted: { assetId: fittedCopy, contentType: 'image/png', bytes: 9, width: 999, height: 400, cropped: true } } }),
    ]);
    await expect(controller.remove('u1', fittedCopy)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('job_fitted_now') });
    expect(await sweepUnusedAssets({ storage, dataSource: ds }, 30 * DAY)).toMatchObject({ removed: 0 });
    expect(await stored()).toContain(fittedCopy);
  });

  it('deletes while the job list trails the log by a burst of submits, still refusing an image a job it has not shown yet names', async () => {
    await ds.query(`INSERT INTO checkpoints (name, transaction_id, global_position) SELECT 'job_view', pg_current_xact_id(), max(global_position) FROM events
      ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`);
    const [named, unused] = [await asset(40), await asset(40)];
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) SELECT 'burst-' || g, 1, gen_random_uuid(), 'Other', 1, '{}' FROM generate_series(1, 2500) g`);
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ('job-job_burst', 1, gen_random_uuid(), 'JobSubmitted', 1, $1)`, [
      JSON.stringify({ jobId: 'job_burst', userId: 'u1', referenceImage: { assetId: named } }),
    ]);
    const controller = new DeleteAssetController({ storage, dataSource: ds } as unknown as GatewayDeps);
    await controller.remove('u1', unused);
    await expect(controller.remove('u1', named)).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringContaining('job_burst') });
    expect(await stored()).toContain(named);
    expect(await stored()).not.toContain(unused);
  });

  it('answers 503 to a delete while the job list is rebuilt, and removes nothing', async () => {
    const old = await asset(40);
    await ds.query(`DELETE FROM checkpoints WHERE name = 'job_view'`);
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) SELECT 'more-' || g, 1, gen_random_uuid(), 'Other', 1, '{}' FROM generate_series(1, 25000) g`);
    const controller = new DeleteAssetController({ storage, dataSource: ds } as unknown as GatewayDeps);
    await expect(controller.remove('u1', old)).rejects.toMatchObject({ code: 'service_unavailable' });
    expect(await stored()).toContain(old);
  });
});

describe('asset lookups and sweeps while the operator rebuilds the job list', () => {
  type Db = Pick<DataSource, 'query'>;
  const rebuildJobList = () => rebuildProjection(ds, JOB_VIEW_PROJECTION, 'TRUNCATE job_view');
  /** job_view has folded every event so far, and no rebuild is under way. */
  const caughtUp = () =>
    ds.query(
      `WITH gone AS (DELETE FROM checkpoints WHERE name = $1)
      INSERT INTO checkpoints (name, transaction_id, global_position) SELECT 'job_view', pg_current_xact_id(), max(global_position) FROM events
      ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`,
      [rebuildMarkName(JOB_VIEW_PROJECTION)],
    );
  /** An unfinished job of u1 naming a new image, in the log and folded into job_view. */
  const projectedJob = async () => {
    const assetId = await asset(40);
    const jobId = `job_${assetId}`;
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ($1, 1, gen_random_uuid(), 'JobSubmitted', 1, $2)`, [
      `job-${jobId}`, JSON.stringify({ jobId, userId: 'u1', referenceImage: { assetId } }),
    ]);
    await jobNaming(assetId, 'queued', 0);
    await caughtUp();
    return { assetId, jobId };
  };

  it('finds an unfinished job when the rebuild commits right after the lookup read the job list’s checkpoint', async () => {
    const { assetId, jobId } = await projectedJob();
    let rebuilt = false;
    const racing = {
      query: async (sql: string, params?: unknown[]) => {
        const rows = await ds.query(sql, params);
        if (!rebuilt && /FROM checkpoints/.test(sql)) {
          rebuilt = true;
          await rebuildJobList();
        }
        return rows;
      },
    } as unknown as Db;
    expect(await jobUsingImage(racing, 'u1', assetId)).toBe(jobId);
    expect(rebuilt).toBe(true);
  });

  it('finds an unfinished job when the lookup starts while a rebuild holds the job list, and the rebuild commits meanwhile', async () => {
    const { assetId, jobId } = await projectedJob();
    const rebuild = ds.createQueryRunner();
    await rebuild.connect();
    try {
      await rebuild.startTransaction();
      await rebuild.query(`TRUNCATE job_view`);
      await rebuild.query(`DELETE FROM checkpoints WHERE name = 'job_view'`);
      let settled = false;
      const lookup = jobUsingImage(ds, 'u1', assetId).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // waits for the TRUNCATE's lock
      await rebuild.commitTransaction();
      expect(await lookup).toBe(jobId);
    } finally {
      await rebuild.release();
    }
  });

  it('a rebuild begun during a round stops the round before its next batch', async () => {
    await caughtUp();
    const ownDir = await mkdtemp(join(tmpdir(), 'reelay-asset-retention-'));
    try {
      const own = new LocalStorage(ownDir);
      for (let i = 0; i < 150; i++) {
        const key = assetKey(`asset_${String(i).padStart(10, 'R')}`);
        await own.put(key, Buffer.from('png bytes'), { contentType: 'image/png', metadata: { userId: 'u1' } });
        for (const file of [key, `${key}.meta.json`]) await utimes(join(ownDir, file), daysAgo(40), daysAgo(40));
      }
      let rebuilt = false;
      const racing = {
        query: async (sql: string, params?: unknown[]) => {
          const rows = await ds.query(sql, params);
          if (!rebuilt && /FROM job_view/.test(sql)) {
            rebuilt = true; // right after the first batch's check
            await rebuildJobList();
          }
          return rows;
        },
      } as unknown as Db;
      expect(await sweepUnusedAssets({ storage: own, dataSource: racing }, 30 * DAY)).toEqual({ removed: 100, more: false, skipped: true });
      expect((await readdir(join(ownDir, 'assets'))).filter((f) => !f.endsWith('.meta.json'))).toHaveLength(50);
    } finally {
      await rm(ownDir, { recursive: true, force: true });
    }
  });
});
