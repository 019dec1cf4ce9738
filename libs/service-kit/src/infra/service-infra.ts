import { assertLogBehindCluster, CheckpointStore, createDataSource, DeadLetterStore, EventStore, runMigrations } from '@reelay/event-store';
import { connectNats, EventRelay, natsHealthy, RELAY_CHECKPOINT, type NatsConnection } from '@reelay/messaging';
import type { DataSource, MigrationInterface } from 'typeorm';
import type { BaseConfig } from '../config/load-config';
import type { ReadinessChecks } from '../health/ops.controller';
import { PostgresProbe } from '../health/postgres-readiness';
import type { Logger } from '../logging/logger';
import { logReaderGauges, openDeadLettersGauge } from '../metrics/log-reader-metrics';
import type { Metrics } from '../metrics/registry';

export interface ServiceInfra {
  dataSource: DataSource;
  store: EventStore;
  checkpoints: CheckpointStore;
  deadLetters: DeadLetterStore;
  nc: NatsConnection;
  prefix: string;
  relay: EventRelay | null;
  checks: ReadinessChecks;
  close(): Promise<void>;
}

export interface InfraOptions {
  name: string;
  config: Omit<BaseConfig, 'SHUTDOWN_GRACE_MS'>;
  logger: Logger;
  /** Tables this service owns, migrated with the event store's own. */
  migrations?: (new () => MigrationInterface)[];
  /** Run the outbox relay here too; one leader across all processes publishes (advisory lock). */
  relay?: boolean;
  migrate?: boolean;
  /** With the relay: its lag (reelay_log_unread_events{reader="relay"}) and the open dead letters are exported here. */
  metrics?: Metrics;
}

/** PostgreSQL, the event store and NATS, connected and migrated; closed in reverse order. */
export async function connectInfra(opts: InfraOptions): Promise<ServiceInfra> {
  const { config, logger } = opts;
  const dataSource = createDataSource(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, applicationName: opts.name, migrations: opts.migrations });
  await dataSource.initialize();
  if (opts.migrate ?? true) {
    const ran = await runMigrations(dataSource);
    if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
  }
  await assertLogBehindCluster(dataSource);
  const nc = await connectNats(config.NATS_URL, opts.name);
  const store = new EventStore(dataSource);
  const relay = opts.relay
    ? new EventRelay({
        dataSource,
        nc,
        prefix: config.NATS_PREFIX,
        databaseUrl: config.DATABASE_URL,
        // The relay makes the stream first (and again if it is lost): with the replicas asked for.
        topology: { replicas: config.NATS_REPLICAS },
        logger: { log: (m) => logger.info(m), warn: (m) => logger.warn(m) },
      })
    : null;
  await relay?.start();
  if (relay && opts.metrics) {
    logReaderGauges(opts.metrics, dataSource, [RELAY_CHECKPOINT]);
    openDeadLettersGauge(opts.metrics, dataSource);
  }
  const postgresProbe = new PostgresProbe(config.DATABASE_URL, `${opts.name} readiness`);
  return {
    dataSource,
    store,
    checkpoints: new CheckpointStore(dataSource),
    deadLetters: new DeadLetterStore(dataSource),
    nc,
    prefix: config.NATS_PREFIX,
    relay,
    checks: {
      postgres: postgresProbe.check,
      nats: () => natsHealthy(nc),
    },
    async close() {
      await relay?.stop().catch((err: unknown) => logger.warn({ err }, 'relay stop failed'));
      await nc.drain().catch(() => undefined);
      await store.snapshots.settled();
      await postgresProbe.close();
      await dataSource.destroy().catch(() => undefined);
    },
  };
}
