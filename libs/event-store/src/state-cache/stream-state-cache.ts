/**
 * Folded stream states this process has seen, with the version each was folded to, least recently
 * used evicted first. Events are append-only (the database refuses UPDATE/DELETE/TRUNCATE on
 * `events`), so a cached state is never wrong, only possibly behind: folding the events after its
 * version gives the current state. Which fold produced a state is part of the entry, so two folds
 * of one stream never mix.
 */
export class StreamStateCache {
  private readonly entries = new Map<string, { fold: object; state: unknown; version: number }>();

  constructor(readonly maxEntries = 10_000) {}

  get<State>(fold: object, streamId: string): { state: State; version: number } | undefined {
    const entry = this.entries.get(streamId);
    if (!entry || entry.fold !== fold) return undefined;
    this.entries.delete(streamId); // re-insert: Map iteration order is the recency order
    this.entries.set(streamId, entry);
    return { state: entry.state as State, version: entry.version };
  }

  /** Keeps the newer of the cached and the given state. */
  set(fold: object, streamId: string, state: unknown, version: number): void {
    const entry = this.entries.get(streamId);
    if (entry && entry.fold === fold && entry.version > version) return;
    this.entries.delete(streamId);
    this.entries.set(streamId, { fold, state, version });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
