import { EventStore, openMigrated, rebuildProjection } from '@reelay/event-store';
import { createJobViewProjection, JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { jobViewIncomplete, unlessJobListRebuilding } from './job-view-sql';

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('jobviewsql');
  ds = await openMigrated(db.url, { poolSize: 2 });
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const append = (n: number) =>
  ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) SELECT 'other-' || gen_random_uuid(), 1, gen_random_uuid(), 'Other', 1, '{}' FROM generate_series(1, $1::int)`, [n]);

describe('the job list while the operator rebuilds it (PostgreSQL)', () => {
  it('answers 503 however short the log, from the reset until the rebuild has caught up; events appended after it do not count', async () => {
    await append(5);
    const runner = createJobViewProjection(new EventStore(ds));
    await runner.catchUp();
    expect(await jobViewIncomplete(ds)).toBe(false);
    await expect(unlessJobListRebuilding(ds, 'which of your jobs are unfinished')).resolves.toBeUndefined();

    // Five events behind, far under the lag that refuses by itself: refused because it is rebuilt.
    await rebuildProjection(ds, JOB_VIEW_PROJECTION, 'TRUNCATE job_view');
    expect(await jobViewIncomplete(ds)).toBe(true);
    await expect(unlessJobListRebuilding(ds, 'which of your jobs are unfinished')).rejects.toMatchObject({
      code: 'service_unavailable',
      status: 503,
      headers: { 'Retry-After': '60' },
      message: expect.stringContaining('The job list is being rebuilt, so it cannot tell yet which of your jobs are unfinished'),
    });

    await runner.catchUp();
    await append(3); // after the rebuild's end: an ordinary lag
    expect(await jobViewIncomplete(ds)).toBe(false);
    await expect(unlessJobListRebuilding(ds, 'which of your jobs are unfinished')).resolves.toBeUndefined();
  });
});
