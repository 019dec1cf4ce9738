import type { SqlExecutor } from '../sql/sql-executor';

/**
 * Takes, inside the caller's transaction, the same per-stream lock an append takes. A
 * read-decide-append on a hot stream (one user's credit ledger under many concurrent submits) then
 * runs one at a time across every process instead of losing optimistic races over and over.
 * Take it before the transaction writes anything, like the append does, so log order still follows
 * stream order (see EventStore.appendMany).
 */
export async function lockStream(tx: SqlExecutor, streamId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [streamId]);
}
