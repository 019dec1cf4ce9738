/** What the transport records when it gives up on a message (the event store's DeadLetterStore fits). */
export interface DeadLetterEntry {
  consumer: string;
  subject: string;
  /** Null when the payload carried no valid event id. */
  eventId: string | null;
  /** The parsed JSON payload, or the raw text when it was not JSON. */
  payload: unknown;
  error: string;
  deliveries: number;
}

export interface DeadLetterSink {
  record(entry: DeadLetterEntry): Promise<unknown>;
}
