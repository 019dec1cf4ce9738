import type { DataSource } from 'typeorm';
import { LOG_START, type LogCheckpoint } from '../log/log-checkpoint';
import type { SqlExecutor } from '../sql/sql-executor';

/**
 * Named positions in the log for relays and projections. Pass `tx` (a QueryRunner or
 * EntityManager inside a transaction) to save the checkpoint atomically with the work it covers:
 * work and checkpoint commit together or not at all, which makes processing effectively-once.
 */
export class CheckpointStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The saved checkpoint, or LOG_START when there is none. */
  async get(name: string, tx?: SqlExecutor): Promise<LogCheckpoint> {
    const rows: { transaction_id: string; global_position: string }[] = await (tx ?? this.dataSource).query(
      `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM checkpoints WHERE name = $1`,
      [name],
    );
    return rows[0] ? { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position } : { ...LOG_START };
  }

  /** Saves the checkpoint; with `along`, that statement runs first, in the same statement (a data-modifying WITH). */
  async save(name: string, checkpoint: LogCheckpoint, tx?: SqlExecutor, along?: { sql: string; params: unknown[] }): Promise<void> {
    const n = along?.params.length ?? 0;
    await (tx ?? this.dataSource).query(
      `${along ? `WITH along AS (${along.sql}) ` : ''}INSERT INTO checkpoints (name, transaction_id, global_position) VALUES ($${n + 1}, $${n + 2}::xid8, $${n + 3}::bigint)
       ON CONFLICT (name) DO UPDATE
       SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()`,
      [...(along?.params ?? []), name, checkpoint.transactionId, checkpoint.globalPosition],
    );
  }

  /** Forgets the checkpoint: the next read starts from the beginning of the log. */
  async reset(name: string, tx?: SqlExecutor): Promise<void> {
    await (tx ?? this.dataSource).query(`DELETE FROM checkpoints WHERE name = $1`, [name]);
  }
}
