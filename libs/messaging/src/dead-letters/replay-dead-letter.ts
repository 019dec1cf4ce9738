import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { REPLAY_MARKER } from '../relay/published-tail';

export interface ReplayableDeadLetter {
  id: string;
  subject: string;
  eventId: string | null;
  payload: unknown;
  replayedAt: string | null;
}

/** The part of the event store's DeadLetterStore a replay needs. */
export interface DeadLetterReplayStore {
  get(id: string): Promise<ReplayableDeadLetter | null>;
  beginReplay(id: string): Promise<string | null>;
  markReplayed(id: string, replayToken?: string): Promise<boolean>;
}

export interface ReplayResult {
  ack: PubAck;
  /**
   * False when the letter stays open: the event failed again while it was being replayed (the
   * letter then holds that failure), or the stream took the publish for a duplicate of an earlier
   * replay of the letter (`ack.duplicate`) and delivered nothing.
   */
  marked: boolean;
}

export class DeadLetterNotReplayableError extends Error {
  constructor(readonly id: string, reason: string) {
    super(`Dead letter ${id} cannot be replayed: ${reason}`);
    this.name = 'DeadLetterNotReplayableError';
  }
}

/**
 * Republishes a dead letter's stored payload to its subject, so every consumer on that subject sees
 * it again (handlers are idempotent). The message id `<eventId>:replay:<deadLetterId>` is new to the
 * stream's dedup window, yet stable: a retried replay of the same letter is dropped as a duplicate.
 * The letter is marked replayed after the publish, under the token taken before it: a failure of the
 * replayed event that joins the letter in between (a payload refused at once) keeps it open, rather
 * than being marked replayed with it. A crash between the publish and the mark leaves it open too,
 * so a replay after the stream's duplicate window publishes it again (at least once, like every
 * delivery here); one within the window is a duplicate, and is not marked.
 */
export async function replayDeadLetter(js: JetStreamClient, store: DeadLetterReplayStore, id: string): Promise<ReplayResult> {
  const letter = await store.get(id);
  if (!letter) throw new DeadLetterNotReplayableError(id, 'not found');
  if (letter.replayedAt) throw new DeadLetterNotReplayableError(id, `already replayed at ${letter.replayedAt}`);
  const token = await store.beginReplay(id);
  if (!token) throw new DeadLetterNotReplayableError(id, 'replayed meanwhile');
  const payload = typeof letter.payload === 'string' ? letter.payload : JSON.stringify(letter.payload);
  const ack = await js.publish(letter.subject, payload, { msgID: `${letter.eventId ?? 'unknown'}${REPLAY_MARKER}${letter.id}` });
  // A duplicate delivered nothing now (a replay of this letter within the stream's duplicate window,
  // one that failed again or whose mark was lost): the letter stays open, to be replayed after it.
  if (ack.duplicate) return { ack, marked: false };
  return { ack, marked: await store.markReplayed(id, token) };
}
