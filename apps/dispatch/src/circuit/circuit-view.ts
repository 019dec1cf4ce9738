/**
 * What this replica last learned of one provider's circuit, and until when (its own monotonic
 * clock) it may go by that instead of asking PostgreSQL again.
 */
export interface CircuitView {
  open: boolean;
  /** A run of failures is being counted (a success must reset it). */
  failing: boolean;
  freshUntil: number;
}

/** A provider_circuits row as read: `probeInMs` is how long (database clock) until a half-open probe is due, 0 if due now. */
export interface CircuitRow {
  open: boolean;
  failing: boolean;
  probeInMs: number;
}

/**
 * An open circuit is trusted no longer than until its probe is due, so the probe is claimed on
 * time; otherwise a view lasts `ttlMs`. Another replica's change is therefore seen within `ttlMs`.
 */
export function viewOf(row: CircuitRow | undefined, now: number, ttlMs: number): CircuitView {
  if (!row) return { open: false, failing: false, freshUntil: now + ttlMs };
  return { open: row.open, failing: row.failing, freshUntil: now + (row.open ? Math.min(ttlMs, Math.max(0, row.probeInMs)) : ttlMs) };
}

export const isFresh = (view: CircuitView | undefined, now: number): view is CircuitView => view !== undefined && now < view.freshUntil;

/** A success need not be written when the circuit is known to be closed with no failures counted. */
export const successChangesNothing = (view: CircuitView | undefined, now: number): boolean => isFresh(view, now) && !view.open && !view.failing;
