import { StreamStateCache } from '@reelay/event-store';
import type { JobSnapshot } from './job-history';

/** Names notification's job snapshots in the shared LRU (entries are per fold and stream). */
const SNAPSHOT = {};

/**
 * Folded job states this process has seen (the event store's LRU StreamStateCache), plus the
 * handlers under way, so the next event of a job can wait for the previous one's snapshot.
 * Job streams are append-only, so a cached snapshot is never wrong, only possibly behind; the
 * handler folds the events after its version. Replicas share the consumer, so any of them may
 * miss any event: a missing or stale entry costs a read, never correctness.
 */
export class JobStateCache {
  private readonly snapshots: StreamStateCache;
  /** Handlers under way in this process, by `<streamId>@<version>`. */
  private readonly handling = new Map<string, Promise<unknown>>();

  constructor(readonly maxEntries = 10_000) {
    this.snapshots = new StreamStateCache(maxEntries);
  }

  get(streamId: string): JobSnapshot | undefined {
    return this.snapshots.get<JobSnapshot>(SNAPSHOT, streamId)?.state;
  }

  /** Keeps the newer of the cached and the given snapshot (handlers of one job may finish out of order). */
  remember(streamId: string, snapshot: JobSnapshot): void {
    this.snapshots.set(SNAPSHOT, streamId, snapshot, snapshot.version);
  }

  /**
   * Runs the handler of one event, letting the handler of the next version of the stream wait for
   * it (see `handled`). Handlers only ever wait for a lower version that started earlier, so waits
   * cannot form a cycle.
   */
  async track<T>(streamId: string, version: number, handler: () => Promise<T>): Promise<T> {
    const key = `${streamId}@${version}`;
    const run = handler();
    this.handling.set(key, run);
    try {
      return await run;
    } finally {
      if (this.handling.get(key) === run) this.handling.delete(key);
    }
  }

  /**
   * Settles when this process's handler of that version (if one is under way) has finished, failed
   * or not. Events of a job published together reach the consumer together: the later one waits
   * for the earlier one's snapshot instead of reading the stream.
   */
  async handled(streamId: string, version: number): Promise<void> {
    await this.handling.get(`${streamId}@${version}`)?.catch(() => undefined);
  }

  get size(): number {
    return this.snapshots.size;
  }
}
