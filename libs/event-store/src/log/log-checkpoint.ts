/**
 * A position in the global log: the writing transaction's id (xid8) and the row's global position,
 * both as decimal strings (they are 64-bit). The log is ordered by this pair, not by position alone.
 */
export interface LogCheckpoint {
  transactionId: string;
  globalPosition: string;
}

export const LOG_START: LogCheckpoint = Object.freeze({ transactionId: '0', globalPosition: '0' });

/** Negative if a is before b, 0 if equal, positive if after. */
export function compareCheckpoints(a: LogCheckpoint, b: LogCheckpoint): number {
  const tx = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const pos = BigInt(a.globalPosition) - BigInt(b.globalPosition);
  return pos === 0n ? 0 : pos < 0n ? -1 : 1;
}
