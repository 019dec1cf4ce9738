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
 * Strictly parses event data into a current-version domain event: what a writer checks before an
 * append. Old versions are upcast first; anything unknown or not matching its schema throws an
 * error that names the event, so a bad event is rejected whole rather than half-applied.
 */
export function parseEvent(type: string, schemaVersion: number, data: unknown, upcasters: Record<string, Upcaster> = UPCASTERS): DomainEvent {
  return parseWith(type, schemaVersion, data, upcasters, false);
}

/**
 * Parses a stored or received event as a reader: like `parseEvent`, except that fields this release
 * does not know are dropped instead of failing the event. A newer release adds fields only as
 * optional ones, so during a rolling upgrade its events reach older readers, which go on without
 * the field, rather than dead-lettering them or failing every read of the job. Anything else that
 * does not match the schema still fails. `onIgnored` is told the dropped fields' paths.
 */
export function readEvent(
  type: string,
  schemaVersion: number,
  data: unknown,
  upcasters: Record<string, Upcaster> = UPCASTERS,
  onIgnored?: (fields: string[]) => void,
): DomainEvent {
  return parseWith(type, schemaVersion, data, upcasters, onIgnored ?? (() => undefined));
}

function parseWith(type: string, schemaVersion: number, data: unknown, upcasters: Record<string, Upcaster>, onIgnored: ((fields: string[]) => void) | false): DomainEvent {
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
  let parsed = def.data.safeParse(current);
  if (!parsed.success && onIgnored && parsed.error.issues.every((i) => i.code === 'unrecognized_keys')) {
    const issues = parsed.error.issues;
    parsed = def.data.safeParse(withoutKeys(current, issues));
    if (parsed.success) onIgnored(issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k].join('.')) : [])));
  }
  if (!parsed.success) throw new MalformedEventError(type, schemaVersion, parsed.error.issues);
  return { type, data: parsed.data } as DomainEvent;
}

/** A copy of `value` without the keys the issues name (each at its own path). */
function withoutKeys(value: unknown, issues: z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(value);
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let at: unknown = copy;
    for (const step of issue.path) at = (at as Record<PropertyKey, unknown> | undefined)?.[step];
    if (at && typeof at === 'object') for (const key of issue.keys) delete (at as Record<string, unknown>)[key];
  }
  return copy;
}
