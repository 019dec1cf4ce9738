import { z } from 'zod';

export const EventMetadata = z.strictObject({
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  traceparent: z.string().optional(),
  userId: z.string().optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/** An event as committed in the log and as carried on the bus. */
export const RecordedEvent = z.strictObject({
  eventId: z.uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  streamId: z.string().min(1),
  streamVersion: z.number().int().positive(),
  globalPosition: z.string().regex(/^\d+$/),
  transactionId: z.string().regex(/^\d+$/),
  data: z.unknown(),
  metadata: EventMetadata,
  recordedAt: z.iso.datetime({ offset: true }),
});
export type RecordedEvent = z.infer<typeof RecordedEvent>;

/** Metadata for events written because of `event`: same correlation, user and trace; caused by it. */
export function metadataCausedBy(event: Pick<RecordedEvent, 'eventId' | 'metadata'>): EventMetadata {
  const m: EventMetadata = { causationId: event.eventId };
  if (event.metadata.correlationId) m.correlationId = event.metadata.correlationId;
  if (event.metadata.userId) m.userId = event.metadata.userId;
  if (event.metadata.traceparent) m.traceparent = event.metadata.traceparent;
  return m;
}
