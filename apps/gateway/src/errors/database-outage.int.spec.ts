import { Client } from 'pg';
import { createApiKey } from '@reelay/accounts';
import { createLogger } from '@reelay/service-kit';
import { createTestDatabase, TEST_DATABASE_ADMIN_URL, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayApp, type GatewayApp } from '../app';
import { GatewayConfig } from '../config/gateway-config';

jest.setTimeout(30_000);

/** PostgreSQL refusing the gateway's connections (a restart, a failover): real server, real pool. */
describe('gateway: a database outage', () => {
  let db: TestDatabase;
  let gw: GatewayApp;
  let admin: Client;
  let base: string;
  let key: string;
  let storageDir: string;
  const database = (allow: boolean) => admin.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS ${allow}`);

  beforeAll(async () => {
    db = await createTestDatabase('gw-outage');
    storageDir = await mkdtemp(join(tmpdir(), 'reelay-gw-outage-'));
    Object.assign(process.env, { PROVIDER_SIM_URL: 'http://127.0.0.1:9', PROVIDERS_ENABLED: 'local' });
    const config = GatewayConfig.parse({ DATABASE_URL: db.url, NATS_PREFIX: uniqueNatsPrefix('gwout'), STORAGE_DIR: storageDir, DB_POOL_SIZE: '2', RATE_LIMIT_BURST: '1000' });
    gw = await createGatewayApp(config, createLogger('gateway', 'silent'));
    await gw.app.listen(0, '127.0.0.1');
    base = (await gw.app.getUrl()).replace('[::1]', '127.0.0.1');
    key = (await createApiKey(gw.deps.dataSource, 'alice', 'test')).key;
    admin = new Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
  });
  afterAll(async () => {
    if (admin) {
      await database(true);
      await admin.end();
    }
    await gw?.app.close();
    await db?.drop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('answers 503 service_unavailable with Retry-After (safe to retry), not 500, and serves again once it is back', async () => {
    const list = () => fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
    expect((await list()).status).toBe(200);

    await database(false);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name]);
    for (let i = 0; i < 3; i++) {
      const res = await list();
      expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '2' });
      expect(await res.json()).toEqual({ error: { code: 'service_unavailable', message: 'The service is temporarily unavailable. Please try again.' } });
    }

    await database(true);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await list()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
