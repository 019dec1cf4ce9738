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
  markReplayed(id: string): Promise<boolean>;
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
 */
export async function replayDeadLetter(js: JetStreamClient, store: DeadLetterReplayStore, id: string): Promise<PubAck> {
  const letter = await store.get(id);
  if (!letter) throw new DeadLetterNotReplayableError(id, 'not found');
  if (letter.replayedAt) throw new DeadLetterNotReplayableError(id, `already replayed at ${letter.replayedAt}`);
  const payload = typeof letter.payload === 'string' ? letter.payload : JSON.stringify(letter.payload);
  const ack = await js.publish(letter.subject, payload, { msgID: `${letter.eventId ?? 'unknown'}${REPLAY_MARKER}${letter.id}` });
  await store.markReplayed(id);
  return ack;
}
