/**
 * Folded stream states this process has seen, with the version each was folded to, least recently
 * used evicted first. Events are append-only (the database refuses UPDATE/DELETE/TRUNCATE on
 * `events`), so a cached state is never wrong, only possibly behind: folding the events after its
 * version gives the current state. Entries are per fold and stream, so two folds of one stream
 * (say the job's state and dispatch's view of it) never mix.
 */
export class StreamStateCache {
  private readonly entries = new Map<string, { state: unknown; version: number }>();
  private readonly foldIds = new WeakMap<object, number>();
  private nextFoldId = 0;

  constructor(readonly maxEntries = 10_000) {}

  get<State>(fold: object, streamId: string): { state: State; version: number } | undefined {
    const key = this.key(fold, streamId);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key); // re-insert: Map iteration order is the recency order
    this.entries.set(key, entry);
    return { state: entry.state as State, version: entry.version };
  }

  /** Keeps the newer of the cached and the given state. */
  set(fold: object, streamId: string, state: unknown, version: number): void {
    const key = this.key(fold, streamId);
    const entry = this.entries.get(key);
    if (entry && entry.version > version) return;
    this.entries.delete(key);
    this.entries.set(key, { state, version });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  private key(fold: object, streamId: string): string {
    let id = this.foldIds.get(fold);
    if (id === undefined) this.foldIds.set(fold, (id = this.nextFoldId++));
    return `${id} ${streamId}`;
  }

  get size(): number {
    return this.entries.size;
  }
}
