import { ACCOUNTS_MIGRATIONS, createApiKey, revokeApiKey } from '@reelay/accounts';
import { createDataSource, runMigrations } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { ApiKeyLookup } from './api-key-lookup';

describe('ApiKeyLookup (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('api_key_lookup');
    ds = createDataSource(db.url, { migrations: ACCOUNTS_MIGRATIONS });
    await ds.initialize();
    await runMigrations(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('answers lookups made at the same time with one statement, each with its own user', async () => {
    const [a, b] = [await createApiKey(ds, 'lookup-a'), await createApiKey(ds, 'lookup-b')];
    const statements: string[] = [];
    const counting = new Proxy(ds, {
      get: (target, key) => (key === 'query' ? (sql: string, params?: unknown[]) => (statements.push(sql), target.query(sql, params)) : Reflect.get(target, key, target)),
    });
    const lookup = new ApiKeyLookup(counting);
    const keys = [a.key, b.key, 'rly_' + 'z'.repeat(32), a.key, 'garbage'];
    expect(await Promise.all(keys.map((k) => lookup.userFor(k)))).toEqual(['lookup-a', 'lookup-b', null, 'lookup-a', null]);
    expect(statements).toHaveLength(1);
  });

  it('refuses a revoked key at the next lookup: nothing is cached', async () => {
    const { key } = await createApiKey(ds, 'lookup-c');
    const lookup = new ApiKeyLookup(ds);
    expect(await lookup.userFor(key)).toBe('lookup-c');
    await revokeApiKey(ds, key);
    expect(await lookup.userFor(key)).toBeNull();
  });
});
