import type { DataSource } from 'typeorm';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { inTransaction } from '../sql/sql-executor';
import { LOCK_PROJECTION_SQL } from './projection-lock';

/**
 * Resets a projection to the start of the log: runs `truncateSql` (e.g. `TRUNCATE job_view`) and
 * deletes its checkpoint in one transaction, under the projection's lock so it never interleaves
 * with a batch being applied. The next run of the projection rebuilds it from the first event.
 */
export async function rebuildProjection(dataSource: DataSource, name: string, ...truncateSql: string[]): Promise<void> {
  await inTransaction(dataSource, async (tx) => {
    await tx.query(LOCK_PROJECTION_SQL, [name]);
    for (const sql of truncateSql) await tx.query(sql);
    await new CheckpointStore(dataSource).reset(name, tx);
  });
}
