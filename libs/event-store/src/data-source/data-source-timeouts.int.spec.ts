import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import { createDataSource } from './create-data-source';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('dstimeout');
});
afterAll(async () => {
  await db?.drop();
});

describe('pool and query timeouts', () => {
  it('a query the server does not answer in time fails instead of hanging', async () => {
    const ds = createDataSource(db.url, { queryTimeoutMs: 300 });
    await ds.initialize();
    try {
      await expect(ds.query('SELECT pg_sleep(1)')).rejects.toThrow(/timeout/i);
    } finally {
      await ds.destroy();
    }
  });

  it('waiting for a connection from an exhausted pool fails instead of hanging', async () => {
    const ds = createDataSource(db.url, { poolSize: 1, connectTimeoutMs: 300 });
    await ds.initialize();
    const holder = ds.createQueryRunner();
    await holder.connect();
    try {
      await expect(ds.query('SELECT 1')).rejects.toThrow(/timeout/i);
    } finally {
      await holder.release();
      await ds.destroy();
    }
  });
});
