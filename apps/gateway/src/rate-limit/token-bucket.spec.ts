import { TokenBuckets } from './token-bucket';

describe('TokenBuckets', () => {
  it('allows a burst, then refuses with Retry-After, then refills at the rate', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([1, 2, 3].map(() => buckets.take('k').allowed)).toEqual([true, true, true]);
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500; // one token at 2/s
    expect(buckets.take('k').allowed).toBe(true);
    expect(buckets.take('k').allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    const buckets = new TokenBuckets(1, 1, () => 0);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const buckets = new TokenBuckets(0.1, 1, () => 0);
    buckets.take('k');
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it('forgets buckets that are full again, from the least recently used, without walking the others', () => {
    let now = 0;
    const buckets = new TokenBuckets(10, 10, () => now); // full again 1 s after its last take
    for (let i = 0; i < 1000; i++) buckets.take(`a${i}`);
    now = 500;
    buckets.take('a0'); // used again: moves to the end
    now = 1000;
    buckets.take('fresh');
    expect(buckets.size).toBe(2); // a1…a999 idle for 1 s, dropped; a0 and fresh kept
    now = 1400;
    expect(buckets.take('a0').allowed).toBe(true);
  });

  it('given more keys than it may hold, then the least recently used go first and the newest keep their debt', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1, () => now, 3);
    for (const k of ['a', 'b', 'c', 'd']) buckets.take(k);
    expect(buckets.size).toBe(3);
    expect(buckets.take('d').allowed).toBe(false); // still refilling, kept
    expect(buckets.take('a').allowed).toBe(true); // forgotten, so full
  });
});
