import type { SqlExecutor } from '../sql/sql-executor';

/** The log holds transaction ids this PostgreSQL cluster has not reached yet. */
export class LogFromAnotherClusterError extends Error {
  constructor(
    readonly newestLogged: string,
    readonly nextTransactionId: string,
  ) {
    super(
      `The event log holds transaction ids up to ${newestLogged}, but this PostgreSQL cluster's next one is ${nextTransactionId}: ` +
        'the database was copied from another cluster (pg_dump and restore, logical replication). Readers order the log by transaction id, ' +
        'so new events would sort before everything already read and never be published. Before starting reelay, advance this ' +
        `cluster's transaction counter past ${newestLogged} (with the server stopped: pg_resetwal -e <epoch> -x <xid>, where the 64-bit ` +
        'id is epoch × 2^32 + xid). A physical copy (base backup, streaming standby, pg_upgrade) keeps the counter and needs nothing.',
    );
  }
}

/**
 * Refuses a log whose newest transaction id is at or past the cluster's next one. Each event keeps
 * the 64-bit id of the transaction that wrote it, and the log reader pages by it (read-all.ts); a
 * logical copy keeps the ids as data while the new cluster counts from its own, lower start, so
 * every event written after the copy would sort below the checkpoints and be skipped. One index
 * probe at start-up catches it before anything is written.
 */
export async function assertLogBehindCluster(db: SqlExecutor): Promise<void> {
  const [row] = (await db.query(
    `SELECT (SELECT max(transaction_id) FROM events)::text AS newest, pg_snapshot_xmax(pg_current_snapshot())::text AS next,
            (SELECT max(transaction_id) FROM events) >= pg_snapshot_xmax(pg_current_snapshot()) AS ahead`,
  )) as { newest: string | null; next: string; ahead: boolean | null }[];
  if (row?.ahead) throw new LogFromAnotherClusterError(row.newest!, row.next);
}
