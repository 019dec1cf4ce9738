import { createDataSource } from '@reelay/event-store';
import { createTestDatabase, freePort, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { PostgresProbe } from './postgres-readiness';

describe('PostgresProbe (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let probe: PostgresProbe;

  beforeAll(async () => {
    db = await createTestDatabase('readiness');
    ds = createDataSource(db.url, { poolSize: 2, applicationName: 'readiness-test' });
    await ds.initialize();
    probe = new PostgresProbe(db.url, 'readiness-probe-test');
  });
  afterAll(async () => {
    await probe?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('answers while every connection of the service pool is busy', async () => {
    let ended = 0;
    const busy = [ds.query('SELECT pg_sleep(1.5)'), ds.query('SELECT pg_sleep(1.5)')].map((q) => q.then(() => ended++));
    await new Promise((r) => setTimeout(r, 200)); // both sleeps under way
    expect(await probe.check()).toBe(true);
    // A probe that borrowed a pooled connection would have waited for a sleep to end.
    expect(ended).toBe(0);
    await Promise.all(busy);
  });

  it('opens a new session when the server ended its own (a restart, a failover)', async () => {
    expect(await probe.check()).toBe(true);
    const [{ ended }] = await ds.query(`SELECT count(*)::int AS ended FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'readiness-probe-test') t`);
    expect(ended).toBe(1);
    expect(await probe.check()).toBe(true);
  });

  it('reads as down when nothing answers, within its timeout', async () => {
    const nowhere = new PostgresProbe(`postgres://postgres@127.0.0.1:${await freePort()}/reelay`, 'readiness-nowhere', 500);
    expect(await nowhere.check()).toBe(false);
    await nowhere.close();
  });
});
