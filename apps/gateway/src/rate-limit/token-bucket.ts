export interface TakeResult {
  allowed: boolean;
  /** Seconds until one token is available again (0 when allowed). */
  retryAfterSeconds: number;
}

/** Past this many keys the least recently seen are forgotten even if not full again (memory stays bounded). */
const MAX_KEYS = 100_000;

/**
 * Per-key token buckets, in memory: each gateway process limits on its own, so N replicas allow
 * up to N× the rate. The map is kept in order of last use (a take moves its key to the end), so the
 * idle buckets, full again and as good as absent, are at its front: each take drops those it finds
 * there and stops at the first one still refilling, and one more beyond MAX_KEYS. That is O(1) per
 * take whatever the number of keys; a sweep over the whole map once it is large made every
 * request pay for the many addresses of a client rotating them.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly fullAfterMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.fullAfterMs = (burst / ratePerSecond) * 1000;
  }

  take(key: string): TakeResult {
    const now = this.now();
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond) : this.burst;
    this.buckets.delete(key);
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    this.dropIdle(now);
    if (allowed) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond)) };
  }

  /** How many keys are held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private dropIdle(now: number): void {
    for (const [k, b] of this.buckets) {
      if (this.buckets.size <= this.maxKeys && now - b.at < this.fullAfterMs) return;
      this.buckets.delete(k);
    }
  }
}
