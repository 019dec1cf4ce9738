import { createHash } from 'node:crypto';
import type { JobMetadata } from '@reelay/contracts';
import { z } from 'zod';

/** Position after the last job of a page: the list goes by (created_at, job_id) newest first, bulk cancel oldest first. */
export interface JobCursor {
  createdAt: string;
  jobId: string;
}

// Job ids are visible ASCII; anything else (a NUL above all) must not reach the keyset query.
// Dates exactly as encodeCursor writes them (toISOString: UTC, milliseconds) in years PostgreSQL
// holds: a year 0, a +23:59 offset or 200 fraction digits pass an ISO check and fail in the query as a 500.
const asWritten = (d: string) => new Date(Date.parse(d)).toISOString() === d;
const position = [
  z.iso.datetime().refine((d) => Number(d.slice(0, 4)) >= 1 && asWritten(d), 'not a date this server wrote'),
  z.string().regex(/^[\x21-\x7e]{1,64}$/),
] as const;
const CursorShape = z.union([z.tuple(position), z.tuple([...position, z.string().max(100)])]);

/**
 * Opaque to clients: base64url of a small JSON tuple. `scope` ties a cursor to the call that made it
 * (the list's cursors have none), so one made for another call or order is refused, not misread.
 */
export function encodeCursor(c: JobCursor, scope?: string): string {
  return Buffer.from(JSON.stringify(scope === undefined ? [c.createdAt, c.jobId] : [c.createdAt, c.jobId, scope]), 'utf8').toString('base64url');
}

/** null when the cursor was not made by encodeCursor with the same `scope`. */
export function decodeCursor(raw: string, scope?: string): JobCursor | null {
  const parsed = parseCursor(raw);
  return parsed && parsed.scope === scope ? parsed.cursor : null;
}

/**
 * A cursor whose scope is `prefix` followed by a value the call that made it carried on (a bulk
 * call's start): the position and that value, or null for any other cursor.
 */
export function decodeCursorCarrying(raw: string, prefix: string): { cursor: JobCursor; carried: string } | null {
  const parsed = parseCursor(raw);
  if (!parsed?.scope?.startsWith(prefix) || parsed.scope.length === prefix.length) return null;
  return { cursor: parsed.cursor, carried: parsed.scope.slice(prefix.length) };
}

function parseCursor(raw: string): { cursor: JobCursor; scope: string | undefined } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  try {
    const parsed = CursorShape.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    if (!parsed.success) return null;
    return { cursor: { createdAt: parsed.data[0], jobId: parsed.data[1] }, scope: parsed.data[2] };
  } catch {
    return null;
  }
}

/**
 * The scope of a bulk call's cursors: its kind and the metadata it matched on, in any key order (and
 * any other choice that changes which jobs it goes through), so a cursor goes on only such a call.
 */
export function bulkCursorScope(kind: string, metadata: JobMetadata, ...choices: unknown[]): string {
  const pairs = Object.keys(metadata).sort().map((k) => [k, metadata[k]]);
  // The pairs alone without choices: the form bulk cancel's cursors were first made with.
  const named = choices.length ? [pairs, ...choices] : pairs;
  return `${kind}:${createHash('sha256').update(JSON.stringify(named)).digest('base64url').slice(0, 16)}`;
}
