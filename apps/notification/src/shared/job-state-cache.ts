import type { JobSnapshot } from './job-history';

/**
 * Folded job states this process has seen, keyed by stream id, least recently used evicted first.
 * Job streams are append-only, so a cached snapshot is never wrong, only possibly behind; the
 * handler folds the events after its version. Replicas share the consumer, so any of them may
 * miss any event: a missing or stale entry costs a read, never correctness.
 * (libs/event-store is getting a generic StreamStateCache; this one can move onto it.)
 */
export class JobStateCache {
  private readonly entries = new Map<string, JobSnapshot>();
  /** Handlers under way in this process, by `<streamId>@<version>`. */
  private readonly handling = new Map<string, Promise<unknown>>();

  constructor(readonly maxEntries = 10_000) {}

  get(streamId: string): JobSnapshot | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    this.entries.delete(streamId); // re-insert: a Map iterates in insertion order, so first = least recent
    this.entries.set(streamId, entry);
    return entry;
  }

  /** Keeps the newer of the cached and the given snapshot (handlers of one job may finish out of order). */
  remember(streamId: string, snapshot: JobSnapshot): void {
    if (this.maxEntries === 0) return;
    const entry = this.entries.get(streamId);
    if (entry && entry.version >= snapshot.version) return;
    this.entries.delete(streamId);
    this.entries.set(streamId, snapshot);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
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
    return this.entries.size;
  }
}
