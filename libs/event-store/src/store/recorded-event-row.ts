import type { EventMetadata, RecordedEvent } from '@reelay/contracts';

/** Columns every read selects (of table alias `t`, if given), with 64-bit values as text so they survive JavaScript. */
export const eventColumns = (t?: string): string => {
  const c = t ? `${t}.` : '';
  return `${c}global_position::text AS global_position, ${c}transaction_id::text AS transaction_id,
  ${c}stream_id, ${c}stream_version, ${c}event_id, ${c}type, ${c}schema_version, ${c}data, ${c}metadata, ${c}recorded_at`;
};

export const EVENT_COLUMNS = eventColumns();

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date | string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition: row.global_position,
    transactionId: row.transaction_id,
    data: row.data,
    metadata: row.metadata ?? {},
    recordedAt: new Date(row.recorded_at).toISOString(),
  };
}
