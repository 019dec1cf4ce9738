import { retryDelayMs } from './retry-policy';

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 30 * 60_000 };

  it('doubles per failed attempt and stays under the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(policy, 20)).toBe(30 * 60_000);
  });

  it('spreads the default 8 attempts over about an hour', () => {
    const total = Array.from({ length: policy.maxAttempts - 1 }, (_, i) => retryDelayMs(policy, i + 1)).reduce((a, b) => a + b, 0);
    expect(total / 60_000).toBeGreaterThan(55);
    expect(total / 60_000).toBeLessThan(70);
  });
});
