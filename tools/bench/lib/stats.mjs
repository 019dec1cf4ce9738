// Percentiles of measured values; no dependencies, so the small bench libraries and their specs can use it.

/** The value at percentile `p` of an ascending array (nearest rank; NaN when empty). */
export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** The middle value (the lower of the two middles for an even count). */
export const median = (values) => summary(values).p50;
