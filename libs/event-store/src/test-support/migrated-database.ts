import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../data-source/create-data-source';
import type { NewEvent } from '../store/types';

export interface MigratedDatabase {
  db: TestDatabase;
  dataSource: DataSource;
  /** A further pool on the same database (closed by `close`). */
  extraDataSource(poolSize?: number): Promise<DataSource>;
  close(): Promise<void>;
}

/** A fresh database with the event store's schema, and a pool on it. */
export async function migratedDatabase(label: string, poolSize = 4): Promise<MigratedDatabase> {
  const db = await createTestDatabase(label);
  const sources: DataSource[] = [];
  const open = async (size: number) => {
    const ds = createDataSource(db.url, { poolSize: size, idleInTransactionTimeoutMs: 10_000 });
    await ds.initialize();
    sources.push(ds);
    return ds;
  };
  const dataSource = await open(poolSize);
  await runMigrations(dataSource);
  return {
    db,
    dataSource,
    extraDataSource: (size = 2) => open(size),
    async close() {
      await Promise.all(sources.map((s) => (s.isInitialized ? s.destroy() : undefined)));
      await db.drop();
    },
  };
}

export function creditsGranted(userId = `user-${randomUUID()}`, amount = 10): NewEvent {
  return { type: 'CreditsGranted', data: { userId, amount, at: new Date().toISOString() } };
}
