import type { EventMetadata, RecordedEvent } from '@reelay/contracts';
import type { QueryRunner } from 'typeorm';

/** A stream version number, or 'any' to skip the check. 0 means "the stream must not exist yet". */
export type ExpectedVersion = number | 'any';

export interface NewEvent {
  type: string;
  data: unknown;
  metadata?: EventMetadata;
  /** Generated when omitted. */
  eventId?: string;
}

export interface AppendBatch {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
}

export interface AppendResult {
  /** The stream's version after this append: pass it as expectedVersion next time. */
  nextExpectedVersion: number;
  events: RecordedEvent[];
}

export interface AppendOptions {
  /**
   * Append inside the caller's open transaction (which then commits or rolls back), e.g. to write
   * events and a read model together. The per-stream global-order guarantee assumes the append
   * comes before the transaction's other writes; see EventStore.appendMany.
   */
  tx?: QueryRunner;
}
