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
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    const id = msg?.header?.get('Nats-Msg-Id');
    if (id && !id.includes(REPLAY_MARKER)) return id;
  }
  return null;
}
