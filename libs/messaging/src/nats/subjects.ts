import type { RecordedEvent } from '@reelay/contracts';

export const DEFAULT_PREFIX = 'reelay';

const PREFIX_PATTERN = /^[a-z][a-z0-9_-]*$/i;

export function assertPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`Invalid NATS prefix "${prefix}": use letters, digits, '_' or '-'`);
  return prefix;
}

/** The JetStream stream that carries every committed event: `<PREFIX>_EVENTS`. */
export function eventStreamName(prefix = DEFAULT_PREFIX): string {
  return `${assertPrefix(prefix).toUpperCase().replace(/-/g, '_')}_EVENTS`;
}

/** All event subjects: `<prefix>.events.>`. */
export function eventSubjects(prefix = DEFAULT_PREFIX): string {
  return `${assertPrefix(prefix)}.events.>`;
}

/** `job-job_01...` → `job`, `credits-alice` → `credits`. */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}

/** `<prefix>.events.<category>.<EventType>`; subscribe with `eventTypeSubject` or wildcards. */
export function eventSubject(prefix: string, event: Pick<RecordedEvent, 'streamId' | 'type'>): string {
  return eventTypeSubject(prefix, streamCategory(event.streamId), event.type);
}

export function eventTypeSubject(prefix: string, category: string, type: string): string {
  return `${assertPrefix(prefix)}.events.${category}.${type}`;
}

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export function isWildcardSubject(pattern: string): boolean {
  return pattern.split('.').some((t) => t === '*' || t === '>');
}
