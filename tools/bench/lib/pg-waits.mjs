// Reading samples of pg_stat_activity: statement kinds and wait events in words (pg-waits.bench.mjs).

const KINDS = [
  [/reelay_append_groups/, 'append (group commit)'],
  [/reelay_append\(/, 'append (one)'],
  [/^COMMIT/i, 'COMMIT'],
  [/^(BEGIN|START TRANSACTION)/i, 'BEGIN'],
  [/count\(\*\)::int AS n FROM events|SELECT DISTINCT stream_id FROM events/, "the bench's progress query"],
  [/unnest\(\$1::text\[\], \$2::int\[\]\)|q\.ord AS q/, 'stream reads (coalesced)'],
  [/FROM events/, 'log reads (relay, projections)'],
  [/poll_schedule/, 'poll schedule'],
  [/provider_slot/, 'provider slots'],
  [/job_view/, 'job_view projection'],
  [/checkpoints/, 'checkpoints'],
  [/webhook_deliveries/, 'webhook deliveries'],
  [/api_keys/, 'API keys'],
  [/advisory/, 'advisory locks'],
];

export const statementKind = (query) => KINDS.find(([re]) => re.test(query.trim()))?.[1] ?? 'other';

/** What a sampled backend waits on, in words (PostgreSQL's wait_event_type / wait_event). */
export function waitLabel(type, event) {
  if (!type) return 'on CPU';
  if (type === 'Lock' && event === 'object') return 'lock: NOTIFY queue at commit';
  if (type === 'Lock') return `lock: ${event}`;
  if (type === 'IO' && event === 'WALSync') return 'WAL flush (fsync)';
  if (type === 'LWLock' && event === 'WALWrite') return 'WAL write (behind another flush)';
  return `${type}: ${event}`;
}

/** Counts `rows` (one sample's active backends) into `into`, keyed by kind and wait. */
export function tally(into, rows) {
  for (const r of rows) {
    const key = `${statementKind(r.query)}\u0000${waitLabel(r.wait_event_type, r.wait_event)}`;
    into.set(key, (into.get(key) ?? 0) + 1);
  }
}

/** Each kind and wait as the average number of backends in it over `samples` samples. */
export function waitTable(counts, samples) {
  return [...counts]
    .map(([key, n]) => {
      const [kind, wait] = key.split('\u0000');
      return { kind, wait, backends: n / samples };
    })
    .sort((a, b) => b.backends - a.backends);
}
