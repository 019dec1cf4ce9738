import type { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';

/** How recently the pool must have had a connection back, without an error, to answer for PostgreSQL without asking it. */
export const RECENT_QUERY_MS = 5_000;

/**
 * PostgreSQL's readiness check. Under load every pooled connection is busy, and a probe's own
 * `SELECT 1` would wait behind the work until the probe timed out: the replica would be taken out
 * of rotation for being busy, its traffic shed onto replicas as busy as it. So a connection the pool
 * got back without an error within RECENT_QUERY_MS answers for the database (a statement went there
 * and came back), and only a pool idle that long asks PostgreSQL itself.
 */
export function postgresReadiness(dataSource: DataSource, now: () => number = Date.now): () => Promise<boolean> {
  const pool = (dataSource.driver as unknown as { master?: EventEmitter }).master;
  let lastBack = Number.NEGATIVE_INFINITY;
  pool?.on('release', (err: unknown) => {
    if (!err) lastBack = now();
  });
  return async () => now() - lastBack < RECENT_QUERY_MS || (await dataSource.query('SELECT 1 AS ok'))[0]?.ok === 1;
}
