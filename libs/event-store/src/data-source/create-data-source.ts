import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { Client } from 'pg';
import { EVENT_STORE_MIGRATIONS } from '../migrations';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/reelay';

export interface CreateDataSourceOptions {
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Ends sessions left idle inside a transaction (default 60 s). Log readers only see rows older
   * than the oldest open transaction in the cluster that has written something, so a forgotten
   * transaction that wrote stalls every reader.
   */
  idleInTransactionTimeoutMs?: number;
  /** A pool checkout waiting longer fails (default 10 s). */
  connectTimeoutMs?: number;
  /** A query not answered within this fails on the client side (default 60 s). */
  queryTimeoutMs?: number;
  /**
   * A pooled connection unused this long is closed (default 60 s; node-postgres's own is 10 s). A
   * new connection costs PostgreSQL a backend process and its caches, several milliseconds of CPU,
   * so a service whose load comes in bursts would otherwise pay that after every lull.
   */
  poolIdleTimeoutMs?: number;
  /** Extra migrations run after the event store's own. */
  migrations?: (new () => MigrationInterface)[];
  /** Entities for services that also use TypeORM repositories on their own tables. */
  entities?: DataSourceOptions['entities'];
  logging?: boolean;
}

/** A TypeORM DataSource (pg driver) with the event store's migrations registered; not yet initialized. */
export function createDataSource(url: string = DEFAULT_DATABASE_URL, opts: CreateDataSourceOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrations: [...EVENT_STORE_MIGRATIONS, ...(opts.migrations ?? [])],
    migrationsTransactionMode: 'each',
    entities: opts.entities ?? [],
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName,
    logging: opts.logging ?? false,
    // No call may wait forever on a database that went away (a restart, a dead socket): a pool
    // checkout and every query give up with an error, which the caller retries. Found by the
    // chaos suite: without these, pollers hung for good after a PostgreSQL restart.
    extra: {
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 60_000,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      query_timeout: opts.queryTimeoutMs ?? 60_000,
      idleTimeoutMillis: opts.poolIdleTimeoutMs ?? 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
  });
}

/** Any fixed key; only needs to differ from the other advisory locks taken on this database. */
const MIGRATION_LOCK_KEY = 0x72_656c_6179; // 'relay'

/**
 * Runs pending migrations under a session advisory lock, so services starting together
 * never run the same migration twice. Returns the names of the migrations that ran.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      return ran.map((m) => m.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}

/** {@link createDataSource}, connected, with every pending migration run (tools, tests). */
export async function openMigrated(url: string, opts: CreateDataSourceOptions = {}): Promise<DataSource> {
  const dataSource = await createDataSource(url, opts).initialize();
  await runMigrations(dataSource);
  return dataSource;
}

/** Creates the database named in `url` if it does not exist; returns whether it created it. */
export async function ensureDatabase(url: string = DEFAULT_DATABASE_URL): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      if ((err as { code?: string }).code === '42P04') return false; // created concurrently
      throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}
