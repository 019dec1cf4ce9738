import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, ensureEventStream, eventStreamName } from '@reelay/messaging';
import { createTestDatabase, TEST_NATS_URL, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { createLogger } from '../logging/logger';
import { connectInfra, type ServiceInfra } from './service-infra';

describe('connectInfra with the relay (real PostgreSQL and NATS)', () => {
  let db: TestDatabase;
  let infra: ServiceInfra | undefined;
  const prefix = uniqueNatsPrefix('infrarelay');

  beforeAll(async () => {
    db = await createTestDatabase('service-infra');
  });
  afterAll(async () => {
    await infra?.close();
    const nc = await connectNats(TEST_NATS_URL, 'infra-test-cleanup');
    await (await jetstreamManager(nc)).streams.delete(eventStreamName(prefix)).catch(() => undefined);
    await nc.close();
    await db?.drop();
  });

  // A single test server refuses to create a stream with more than one replica but takes raising
  // it, so the stream is made as R1 first (as an earlier single-node install would have left it).
  it('brings the events stream to NATS_REPLICAS replicas before any consumer is made', async () => {
    const nc = await connectNats(TEST_NATS_URL, 'infra-test-setup');
    await ensureEventStream(await jetstreamManager(nc), prefix, { replicas: 1 });
    await nc.close();
    const config = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, NATS_PREFIX: prefix, NATS_REPLICAS: 3, LOG_LEVEL: 'silent' as const, DB_POOL_SIZE: 4 };
    infra = await connectInfra({ name: 'infra-test', config, logger: createLogger('infra-test', 'silent'), relay: true });
    const info = await (await jetstreamManager(infra.nc)).streams.info(eventStreamName(prefix));
    expect(info.config.num_replicas).toBe(3);
  });
});
