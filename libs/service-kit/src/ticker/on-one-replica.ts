import type { DataSource } from 'typeorm';

/** Advisory-lock namespace of periodic sweeps: a key space apart from the event store's and the projections'. */
const SWEEP_LOCK_NAMESPACE = 0x7377; // 'sw'
const ROUND_LOCK_MAX_MINUTES = 10;

/**
 * Runs `round` on one replica at a time: a replica that finds another one's round under way skips
 * this one (returns false) rather than do the same work side by side. Why a transaction-level
 * advisory lock (PostgreSQL docs §13.3.5): it is held by a transaction kept open for the round and
 * freed when that ends, also when the process dies, so no lease has to expire.
 */
export async function onOneReplica(dataSource: DataSource, name: string, round: () => Promise<void>): Promise<boolean> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    // The lock's transaction idles while the round works on other connections, so the pool's
    // idle-in-transaction timeout (60 s) would end it mid-round: another replica would start the
    // same round, and this commit would fail on a round that did its work. A round is bounded well
    // below this; the bound only frees the lock of a round that hangs.
    await runner.query(`SET LOCAL idle_in_transaction_session_timeout = '${ROUND_LOCK_MAX_MINUTES}min'`);
    const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK_NAMESPACE}, hashtext($1)) AS locked`, [name])) as { locked: boolean }[];
    try {
      if (locked) await round();
    } finally {
      await runner.commitTransaction();
    }
    return locked;
  } finally {
    await runner.release();
  }
}
