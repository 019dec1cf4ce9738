/**
 * Advisory-lock key of a projection: the two-int form `(namespace, hashtext(name))`, a key space
 * that never overlaps the single-bigint keys the event store takes per stream.
 */
export const PROJECTION_LOCK_NAMESPACE = 0x7270; // 'rp'

export const TRY_LOCK_PROJECTION_SQL = `SELECT pg_try_advisory_xact_lock(${PROJECTION_LOCK_NAMESPACE}, hashtext($1)) AS locked`;
export const LOCK_PROJECTION_SQL = `SELECT pg_advisory_xact_lock(${PROJECTION_LOCK_NAMESPACE}, hashtext($1))`;
