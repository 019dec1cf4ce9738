import type { DataSource } from 'typeorm';
import type { SqlExecutor } from '../sql/sql-executor';

/** How a fold of long streams is snapshotted (StreamFold.snapshot). */
export interface SnapshotPolicy {
  /**
   * Names the fold and its state's shape. Change it whenever the state or `evolve` changes: a
   * snapshot of another name is never used, so the new fold starts again from the events.
   */
  name: string;
  /** A snapshot is saved each time the stream passes a multiple of this many events. */
  every: number;
}

/**
 * Folded states of long streams saved beside the log (table `stream_snapshots`), so that a process
 * that has not seen a stream folds only the events after its snapshot. A snapshot at version v is
 * the fold of events 1..v, and events never change, so a saved snapshot never turns wrong; it
 * only falls behind. Saving is best effort and off the caller's path: a failed or lost save costs
 * a longer fold later, never a wrong state, and a save never replaces a newer snapshot.
 */
export class StreamSnapshotStore {
  private readonly pending = new Set<Promise<void>>();
  private failures = 0;

  constructor(private readonly dataSource: DataSource) {}

  async load<State>(streamId: string, fold: string, tx?: SqlExecutor): Promise<{ state: State; version: number } | undefined> {
    const rows: { version: number; state: State }[] = await (tx ?? this.dataSource).query(
      `SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND fold = $2`,
      [streamId, fold],
    );
    return rows[0] ? { state: rows[0].state, version: rows[0].version } : undefined;
  }

  /** Starts saving the state at `version`; `settled()` waits for the saves started so far. */
  save(streamId: string, fold: string, version: number, state: unknown): void {
    const saving = this.dataSource
      .query(
        `INSERT INTO stream_snapshots (stream_id, fold, version, state) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (stream_id, fold) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, saved_at = now()
         WHERE stream_snapshots.version < EXCLUDED.version`,
        [streamId, fold, version, JSON.stringify(state)],
      )
      .then(
        () => undefined,
        () => void this.failures++,
      )
      .finally(() => this.pending.delete(saving));
    this.pending.add(saving);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Saves that failed since the process started (the state is folded from the events instead). */
  get failedSaves(): number {
    return this.failures;
  }
}
