import type { JetStreamManager } from '@nats-io/jetstream';

export const REPLAY_MARKER = ':replay:';

/**
 * The event id of the newest relay-published message in the stream (dead-letter replays skipped),
 * or null when there is none within `maxLookBack` messages.
 */
export async function lastPublishedEventId(jsm: JetStreamManager, stream: string, maxLookBack = 100): Promise<string | null> {
  const info = await jsm.streams.info(stream);
  const first = info.state.first_seq;
  for (let seq = info.state.last_seq; seq >= first && seq > 0 && info.state.last_seq - seq < maxLookBack; seq--) {
    const id = await messageId(jsm, stream, seq);
    if (id && !id.includes(REPLAY_MARKER)) return id;
  }
  return null;
}

/**
 * Which of `wanted` (event ids) the stream holds among its newest `maxLookBack` messages, read from
 * the newest back until all are found.
 */
export async function storedAmongNewest(jsm: JetStreamManager, stream: string, wanted: readonly string[], maxLookBack: number): Promise<Set<string>> {
  const missing = new Set(wanted);
  const found = new Set<string>();
  const info = await jsm.streams.info(stream);
  const last = info.state.last_seq;
  const lowest = Math.max(info.state.first_seq, 1, last - maxLookBack + 1);
  // A few gets at a time: on a clustered stream each is a round trip to the stream's leader.
  for (let top = last; top >= lowest && missing.size > 0; top -= LOOKUPS_AT_ONCE) {
    const seqs = Array.from({ length: Math.min(LOOKUPS_AT_ONCE, top - lowest + 1) }, (_, i) => top - i);
    for (const id of await Promise.all(seqs.map((seq) => messageId(jsm, stream, seq)))) {
      if (id && missing.delete(id)) found.add(id);
    }
  }
  return found;
}

const LOOKUPS_AT_ONCE = 16;

async function messageId(jsm: JetStreamManager, stream: string, seq: number): Promise<string | undefined> {
  // A sequence can be gone (deleted, aged out): no id.
  const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
  return msg?.header?.get('Nats-Msg-Id') || undefined;
}
