import { createDataSource } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { postgresReadiness, RECENT_QUERY_MS } from './postgres-readiness';

describe('postgresReadiness (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clock = 1_000_000;
  let ready: () => Promise<boolean>;

  beforeAll(async () => {
    db = await createTestDatabase('readiness');
    ds = createDataSource(db.url, { poolSize: 2, applicationName: 'readiness-test' });
    await ds.initialize();
    ready = postgresReadiness(ds, () => clock);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('answers while every pooled connection is busy, from a statement that came back a moment ago', async () => {
    await ds.query('SELECT 1');
    let ended = 0;
    const busy = [ds.query('SELECT pg_sleep(1.5)'), ds.query('SELECT pg_sleep(1.5)')].map((q) => q.then(() => ended++));
    clock += RECENT_QUERY_MS - 1;
    // Without the recent answer the probe's own SELECT 1 would wait for a connection until a sleep ended.
    expect(await ready()).toBe(true);
    expect(ended).toBe(0);
    await Promise.all(busy);
  });

  it('asks PostgreSQL itself once the pool has been idle longer than that', async () => {
    clock += RECENT_QUERY_MS + 1;
    const asked = jest.spyOn(ds, 'query');
    expect(await ready()).toBe(true);
    expect(asked).toHaveBeenCalledWith('SELECT 1 AS ok');
    asked.mockRestore();
  });
});
