import type { SqlExecutor } from '../sql/sql-executor';

/**
 * Takes, inside the caller's transaction, the same per-stream locks an append takes. A
 * read-decide-append on a hot stream (one user's credit ledger under many concurrent submits) then
 * runs one at a time across every process instead of losing optimistic races over and over.
 * Take them before the transaction writes anything, like the append does, so log order still follows
 * stream order (see EventStore.appendMany). Several streams are locked in the key order every
 * append uses (see the append functions' migrations): a transaction that locks one stream and then
 * appends to another would otherwise deadlock with a group commit that locks the same two the other
 * way round.
 */
export async function lockStreams(tx: SqlExecutor, streamIds: readonly string[]): Promise<void> {
  await tx.query(
    'SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(id, 0) AS k FROM unnest($1::text[]) AS id ORDER BY 1) AS keys',
    [streamIds],
  );
}
