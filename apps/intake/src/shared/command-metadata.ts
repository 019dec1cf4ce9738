import type { EventMetadata } from '@reelay/contracts';

/** The metadata of the events a user's command appends: who asked, and the request's correlation and trace. */
export const commandMetadata = (cmd: { correlationId: string; userId: string; traceparent?: string }): EventMetadata => ({
  correlationId: cmd.correlationId,
  userId: cmd.userId,
  ...(cmd.traceparent ? { traceparent: cmd.traceparent } : {}),
});
