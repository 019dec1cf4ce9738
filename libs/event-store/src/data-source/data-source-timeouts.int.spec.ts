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

  it('a pooled connection idle for longer than node-postgres\'s 10 s is kept, not closed and opened again', async () => {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const [before] = (await ds.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      await new Promise((r) => setTimeout(r, 10_500));
      const [after] = (await ds.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      expect(after!.pid).toBe(before!.pid);
    } finally {
      await ds.destroy();
    }
  }, 20_000);

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

describe('credentials', () => {
  it('takes the password from PGPASSWORD when the URL has none (compose passes it so: any character works)', async () => {
    const before = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'p@ss/w:rd#1';
    const url = new URL(db.url);
    url.password = '';
    const ds = createDataSource(url.toString(), { poolSize: 1 });
    try {
      await ds.initialize();
      const client = await (ds.driver as unknown as { master: { connect(): Promise<{ password: string; release(): void }> } }).master.connect();
      expect(client.password).toBe('p@ss/w:rd#1');
      client.release();
    } finally {
      if (before === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = before;
      await ds.destroy();
    }
  });
});
