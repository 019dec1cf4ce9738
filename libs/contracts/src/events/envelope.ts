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
