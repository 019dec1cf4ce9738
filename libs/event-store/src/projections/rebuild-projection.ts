import type { DataSource } from 'typeorm';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { LOG_START, type LogCheckpoint } from '../log/log-checkpoint';
import { inTransaction, type SqlExecutor } from '../sql/sql-executor';
import { LOCK_PROJECTION_SQL } from './projection-lock';

/**
 * The checkpoints row a rebuild of `name` leaves: where the log ended when the read model was
 * emptied. The read model is being rebuilt while its own checkpoint is behind that position (see
 * PROJECTION_REBUILDING_SQL); once it has got there the row is moot (it needs no clearing, so a
 * rebuild whose command was stopped halfway still ends when the service's runner has caught up).
 */
export function rebuildMarkName(name: string): string {
  return `${name}:rebuild`;
}

/**
 * Whether the projection named $1 is being rebuilt: its checkpoint (none: the start of the log) is
 * behind the mark of its last rebuild. A statement of its own, or a scalar subquery.
 */
export const PROJECTION_REBUILDING_SQL = `
  SELECT EXISTS (
    SELECT 1 FROM checkpoints mark
    LEFT JOIN checkpoints cp ON cp.name = $1
    WHERE mark.name = $1 || '${rebuildMarkName('')}'
      AND (coalesce(cp.transaction_id, '0'::xid8), coalesce(cp.global_position, 0)) < (mark.transaction_id, mark.global_position)
  ) AS rebuilding`;

const NEWEST_COMMITTED_SQL = `
  SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM events
  ORDER BY transaction_id DESC, global_position DESC LIMIT 1`;

/** The last committed event in log order (as this statement's snapshot sees it), or LOG_START for an empty log. */
export async function newestCommittedPosition(db: SqlExecutor): Promise<LogCheckpoint> {
  const [row] = (await db.query(NEWEST_COMMITTED_SQL)) as { transaction_id: string; global_position: string }[];
  return row ? { transactionId: row.transaction_id, globalPosition: row.global_position } : { ...LOG_START };
}

/**
 * Resets a projection to the start of the log: runs `truncateSql` (e.g. `TRUNCATE job_view`) and
 * deletes its checkpoint in one transaction, under the projection's lock so it never interleaves
 * with a batch being applied. The next run of the projection rebuilds it from the first event.
 * Marks the rebuild with the log's end as of then (rebuildMarkName), which it also returns: the
 * read model is whole again once its checkpoint has reached it.
 */
export async function rebuildProjection(dataSource: DataSource, name: string, ...truncateSql: string[]): Promise<LogCheckpoint> {
  return inTransaction(dataSource, async (tx) => {
    await tx.query(LOCK_PROJECTION_SQL, [name]);
    for (const sql of truncateSql) await tx.query(sql);
    const checkpoints = new CheckpointStore(dataSource);
    await checkpoints.reset(name, tx);
    const end = await newestCommittedPosition(tx);
    await checkpoints.save(rebuildMarkName(name), end, tx);
    return end;
  });
}
