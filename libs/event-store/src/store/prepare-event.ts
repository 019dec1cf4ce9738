import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import { currentSchemaVersion, EventMetadata, parseEvent } from '@reelay/contracts';
import { z } from 'zod';
import { InvalidEventMetadataError } from './errors';
import type { NewEvent } from './types';

export interface PreparedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
}

const EventId = z.uuid();
export const isEventId = (id: string): boolean => EventId.safeParse(id).success;

/**
 * Validates an event against its current schema before anything is written: an unknown type throws
 * UnknownEventError, bad data MalformedEventError (both name the event). The parsed data is stored.
 */
export function prepareEvent(event: NewEvent): PreparedEvent {
  const schemaVersion = currentSchemaVersion(event.type);
  const { data } = parseEvent(event.type, schemaVersion, event.data);
  const metadata = EventMetadata.safeParse(event.metadata ?? {});
  if (!metadata.success) throw new InvalidEventMetadataError(event.type, z.prettifyError(metadata.error).replace(/\n/g, '; '));
  let eventId: string = randomUUID();
  if (event.eventId !== undefined) {
    if (!isEventId(event.eventId)) throw new InvalidEventMetadataError(event.type, `eventId ${JSON.stringify(event.eventId)} is not a UUID`);
    eventId = event.eventId.toLowerCase();
  }
  return { eventId, type: event.type, schemaVersion, data, metadata: withActiveTrace(metadata.data) };
}

/**
 * An event written inside a span carries that span's `traceparent` (replacing one copied from the
 * event that caused it, which is the same trace one level up), so whoever handles it next joins the
 * trace as a child of the writer. Without a registered propagator or an active span nothing changes.
 */
function withActiveTrace(metadata: EventMetadata): EventMetadata {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? { ...metadata, traceparent: carrier.traceparent } : metadata;
}
