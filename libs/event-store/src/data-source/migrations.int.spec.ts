import { randomBytes } from 'node:crypto';
import { TEST_DATABASE_ADMIN_URL } from '@reelay/testing';
import { Client } from 'pg';
import { createDataSource, ensureDatabase, runMigrations } from './create-data-source';

describe('migrations (real PostgreSQL)', () => {
  const name = `reelay_migrate_${randomBytes(4).toString('hex')}`;
  const url = (() => {
    const u = new URL(TEST_DATABASE_ADMIN_URL);
    u.pathname = `/${name}`;
    return u.toString();
  })();

  afterAll(async () => {
    const admin = new Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('creates the database once, runs pending migrations once, even when started concurrently', async () => {
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);

    const [a, b] = [createDataSource(url, { poolSize: 2 }), createDataSource(url, { poolSize: 2 })];
    await Promise.all([a.initialize(), b.initialize()]);
    try {
      const [ranA, ranB] = await Promise.all([runMigrations(a), runMigrations(b)]);
      expect([...ranA, ...ranB]).toEqual(['CreateEventLog1764300000000', 'CreateJobView1764300000001', 'CreateAppendFunction1764300000002', 'CreateAppendGroupsFunction1764300000003', 'AppendPlansByKey1764300000004', 'AppendGroupsInOnePass1764300000005', 'CreateStreamSnapshots1764300000006', 'JobViewDurationsIndex1764300000007', 'JobViewWaitingIndex1764300000008', 'JobViewParentIndex1764300000009', 'OneOpenDeadLetterPerEvent1764300000010', 'DeadLetterReplayToken1764300000011']);
      expect(await runMigrations(a)).toEqual([]);
      const tables: { table_name: string }[] = await a.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['checkpoints', 'dead_letters', 'events', 'job_view', 'stream_snapshots', 'streams']));
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });
});
