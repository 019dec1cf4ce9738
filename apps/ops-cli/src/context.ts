import { ACCOUNTS_MIGRATIONS } from '@reelay/accounts';
import { EventStore, openMigrated } from '@reelay/event-store';
import type { DataSource } from 'typeorm';

export interface CliContext {
  ds: DataSource;
  store: EventStore;
  out: (line: string) => void;
}

export async function openContext(out: (line: string) => void): Promise<CliContext> {
  const ds = await openMigrated(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/reelay', { migrations: ACCOUNTS_MIGRATIONS, poolSize: 2, applicationName: 'reelay-cli' });
  return { ds, store: new EventStore(ds), out };
}
