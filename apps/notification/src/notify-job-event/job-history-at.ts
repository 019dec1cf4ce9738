import type { RecordedEvent } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import type { JobStateCache } from '../shared/job-state-cache';
import { foldJobHistory, type JobHistory } from '../shared/job-history';

/**
 * The job's history up to `event`, folded from this process's cached snapshot when it has one:
 * the first event of a stream and the next event after the snapshot cost no query (when the
 * previous event is still being handled here, after waiting for it), a gap (events another replica
 * handled) costs a read of the missing tail only. An event at or before the cached version is a
 * redelivery and is folded from the whole stream, as without a cache, so that it reports what it
 * reported the first time. A tail or stream read that ends before the event (an event cannot reach
 * the bus before its commit, so this should not happen) throws and the event is redelivered.
 */
export async function jobHistoryAt(store: EventStore, cache: JobStateCache, event: RecordedEvent): Promise<JobHistory> {
  const v = event.streamVersion;
  if (v === 1) return foldJobHistory([event], v);
  let cached = cache.get(event.streamId);
  if (!cached || cached.version < v - 1) {
    await cache.handled(event.streamId, v - 1);
    cached = cache.get(event.streamId);
  }
  if (cached && v === cached.version + 1) return foldJobHistory([event], v, cached);
  const from = cached && cached.version < v ? cached : undefined;
  const events = await store.readStream(event.streamId, (from?.version ?? 0) + 1);
  const history = foldJobHistory(events, v, from);
  if (history.version !== v) throw new Error(`job stream ${event.streamId} is behind event version ${v}`);
  return history;
}
