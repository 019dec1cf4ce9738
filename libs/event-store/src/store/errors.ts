import type { ExpectedVersion } from './types';

/** The stream was not at the expected version; nothing was written. Re-read, re-decide, retry. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`Stream ${streamId} is at version ${actual}, expected ${expected === 0 ? '0 (no stream)' : expected}`);
    this.name = 'ConcurrencyError';
  }
}

/** An event with this id is already in the log; nothing was written. */
export class DuplicateEventError extends Error {
  constructor(readonly detail: string) {
    super(`Duplicate event id: ${detail}`);
    this.name = 'DuplicateEventError';
  }
}

/** The metadata of an event to append does not match the EventMetadata schema. */
export class InvalidEventMetadataError extends Error {
  constructor(readonly eventType: string, reason: string) {
    super(`Invalid metadata on ${eventType}: ${reason}`);
    this.name = 'InvalidEventMetadataError';
  }
}
