import { sweepAbandonedPeriodically } from './abandoned-sweeper';
import type { BlobStorage } from './blob-storage';

describe('sweepAbandonedPeriodically', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const unexpected = (what: unknown) => {
    throw new Error(`unexpected call with ${String(what)}`);
  };
  const storage = (sweepAbandoned?: BlobStorage['sweepAbandoned']): BlobStorage => ({
    put: jest.fn(), stat: jest.fn(), makeDurable: jest.fn(), read: jest.fn(), stream: jest.fn(), open: jest.fn(), remove: jest.fn(), removeIfOlderThan: jest.fn(), listOlderThan: jest.fn(), ...(sweepAbandoned ? { sweepAbandoned } : {}),
  });

  it('sweeps at once and then every interval until stopped, reporting only sweeps that removed something', async () => {
    const removed = [0, 3, 1];
    const sweep = jest.fn(async () => removed.shift() ?? 0);
    const swept: number[] = [];
    const sweeper = sweepAbandonedPeriodically(storage(sweep), 'outputs', { olderThanMs: 5, everyMs: 1000, onSwept: (n) => swept.push(n), onError: unexpected });
    await jest.advanceTimersByTimeAsync(2500);
    expect(sweep.mock.calls).toEqual([['outputs', 5], ['outputs', 5], ['outputs', 5]]);
    expect(swept).toEqual([3, 1]);
    await sweeper.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(sweep).toHaveBeenCalledTimes(3);
  });

  it('reports a failed sweep and tries again at the next interval', async () => {
    const sweep = jest.fn().mockRejectedValueOnce(new Error('EACCES')).mockResolvedValue(1);
    const errors: unknown[] = [];
    const swept: number[] = [];
    const sweeper = sweepAbandonedPeriodically(storage(sweep), 'assets', { olderThanMs: 5, everyMs: 1000, onSwept: (n) => swept.push(n), onError: (e) => errors.push(e) });
    await jest.advanceTimersByTimeAsync(1000);
    expect(errors).toEqual([new Error('EACCES')]);
    expect(swept).toEqual([1]);
    await sweeper.stop();
  });

  it('starts no sweep while the last one still walks the directory', async () => {
    let finish!: () => void;
    const sweep = jest.fn(() => new Promise<number>((resolve) => (finish = () => resolve(0))));
    const sweeper = sweepAbandonedPeriodically(storage(sweep), 'outputs', { olderThanMs: 5, everyMs: 1000, onSwept: unexpected, onError: unexpected });
    await jest.advanceTimersByTimeAsync(3500);
    expect(sweep).toHaveBeenCalledTimes(1);
    finish();
    await jest.advanceTimersByTimeAsync(1000);
    expect(sweep).toHaveBeenCalledTimes(2);
    finish();
    await sweeper.stop();
  });

  it('leaves storage that keeps no temporary files alone', async () => {
    const sweeper = sweepAbandonedPeriodically(storage(), 'outputs', { olderThanMs: 5, everyMs: 1000, onSwept: unexpected, onError: unexpected });
    await jest.advanceTimersByTimeAsync(3000);
    await expect(sweeper.stop()).resolves.toBeUndefined();
  });
});
