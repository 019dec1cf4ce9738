import { currentSchemaVersion, readEvent, RecordedEvent, UnknownEventError, type DomainEvent } from '@reelay/contracts';
import { z } from 'zod';

export type DecodedEvent =
  /** `ignoredFields`: data fields this release does not know (a newer release wrote them), dropped. */
  | { ok: true; recorded: RecordedEvent; event: DomainEvent; payload: unknown; ignoredFields?: string[] }
  /** `unknown`: a well-formed envelope of an event type or schema version this release does not know (a newer release wrote it). */
  | { ok: false; error: string; eventId: string | null; payload: unknown; unknown?: true };

/**
 * Parses a bus message as a RecordedEvent envelope and its data as the registered domain event.
 * The returned `recorded` carries the data upcast to the current schema version; `payload` is the
 * message as received (what a dead letter stores and a replay republishes).
 */
export function decodeEventMessage(data: Uint8Array): DecodedEvent {
  const text = Buffer.from(data).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'payload is not JSON', eventId: null, payload: text };
  }
  const envelope = RecordedEvent.safeParse(json);
  if (!envelope.success) {
    return { ok: false, error: `not a RecordedEvent: ${z.prettifyError(envelope.error).replace(/\n/g, '; ')}`, eventId: null, payload: json };
  }
  const e = envelope.data;
  try {
    let ignoredFields: string[] | undefined;
    const event = readEvent(e.type, e.schemaVersion, e.data, undefined, (fields) => (ignoredFields = fields));
    return { ok: true, recorded: { ...e, schemaVersion: currentSchemaVersion(e.type), data: event.data }, event, payload: json, ...(ignoredFields ? { ignoredFields } : {}) };
  } catch (err) {
    return { ok: false, error: (err as Error).message, eventId: e.eventId, payload: json, ...(err instanceof UnknownEventError ? { unknown: true as const } : {}) };
  }
}
