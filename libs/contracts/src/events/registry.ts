import { z } from 'zod';
import { CREDIT_EVENTS } from './credit-events';
import type { DomainEventOf, EventDefinition } from './define-event';
import { JOB_EVENTS } from './job-events';
import { UPCASTERS, type Upcaster } from './upcasters';

export type JobEvent = DomainEventOf<(typeof JOB_EVENTS)[number]>;
export type CreditEvent = DomainEventOf<(typeof CREDIT_EVENTS)[number]>;
export type DomainEvent = JobEvent | CreditEvent;
export type DomainEventType = DomainEvent['type'];

export class UnknownEventError extends Error {
  constructor(readonly eventType: string, readonly schemaVersion: number) {
    super(`Unknown event ${eventType}@${schemaVersion}`);
    this.name = 'UnknownEventError';
  }
}

export class MalformedEventError extends Error {
  constructor(readonly eventType: string, readonly schemaVersion: number, readonly issues: z.core.$ZodIssue[]) {
    super(`Malformed event ${eventType}@${schemaVersion}: ${z.prettifyError(new z.ZodError(issues)).replace(/\n/g, '; ')}`);
    this.name = 'MalformedEventError';
  }
}

const DEFINITIONS = new Map<string, EventDefinition>([...JOB_EVENTS, ...CREDIT_EVENTS].map((d) => [d.type, d]));

export function currentSchemaVersion(type: string): number {
  const def = DEFINITIONS.get(type);
  if (!def) throw new UnknownEventError(type, 0);
  return def.schemaVersion;
}

export function isKnownEventType(type: string): type is DomainEventType {
  return DEFINITIONS.has(type);
}

/**
 * Strictly parses stored or received event data into a current-version domain event.
 * Old versions are upcast first; anything unknown or not matching its schema throws an error
 * that names the event, so a bad event is rejected whole rather than half-applied.
 */
export function parseEvent(type: string, schemaVersion: number, data: unknown, upcasters: Record<string, Upcaster> = UPCASTERS): DomainEvent {
  const def = DEFINITIONS.get(type);
  if (!def || !Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > def.schemaVersion) {
    throw new UnknownEventError(type, schemaVersion);
  }
  let current = data;
  for (let v = schemaVersion; v < def.schemaVersion; v++) {
    const up = upcasters[`${type}@${v}`];
    if (!up) throw new UnknownEventError(type, schemaVersion);
    current = up(current);
  }
  const parsed = def.data.safeParse(current);
  if (!parsed.success) throw new MalformedEventError(type, schemaVersion, parsed.error.issues);
  return { type, data: parsed.data } as DomainEvent;
}
