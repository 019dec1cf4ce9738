import { ACCOUNTS_MIGRATIONS } from '@reelay/accounts';
import { createDataSource, EventStore, runMigrations } from '@reelay/event-store';
import type { DataSource } from 'typeorm';

export interface CliContext {
  ds: DataSource;
  store: EventStore;
  out: (line: string) => void;
}

export async function openContext(out: (line: string) => void): Promise<CliContext> {
  const ds = createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/reelay', { migrations: ACCOUNTS_MIGRATIONS, poolSize: 2, applicationName: 'reelay-cli' });
  await ds.initialize();
  await runMigrations(ds);
  return { ds, store: new EventStore(ds), out };
}
