import { WriteBatcher } from './write-batcher';

describe('WriteBatcher', () => {
  const recording = (fail: (items: number[]) => boolean = () => false) => {
    const calls: number[][] = [];
    const batcher = new WriteBatcher(async (items: number[]) => {
      calls.push(items);
      await new Promise((r) => setTimeout(r, 5));
      if (fail(items)) throw new Error(`bad batch ${items.join(',')}`);
      return items.map((i) => i * 10);
    }, 3);
    return { calls, batcher };
  };

  it('writes what is submitted together in one call and answers each caller its own row', async () => {
    const { calls, batcher } = recording();
    expect(await Promise.all([1, 2, 3].map((i) => batcher.submit(i)))).toEqual([10, 20, 30]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('queues writes made during a flush for the next one, at most maxBatch per call', async () => {
    const { calls, batcher } = recording();
    const first = batcher.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4, 5].map((i) => batcher.submit(i));
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(calls).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('retries a failed batch row by row, so only the bad row fails', async () => {
    const { calls, batcher } = recording((items) => items.includes(2));
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([10, 'rejected', 30]);
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
    // The batcher carries on after a failure.
    expect(await batcher.submit(4)).toBe(40);
  });

  it('given a writer that answers nothing for a row, then that row\'s caller fails and later writes still go', async () => {
    const batcher = new WriteBatcher(async (items: number[]) => (items.includes(2) ? (undefined as unknown as number[]) : items.map((i) => i * 10)));
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await batcher.submit(4)).toBe(40);
  });

  it('retries a failed batch a few rows at a time, not all at once', async () => {
    let running = 0;
    let most = 0;
    const batcher = new WriteBatcher(async (items: number[]) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (items.length > 1) throw new Error('a bad row somewhere');
      return items;
    }, 100);
    const rows = Array.from({ length: 40 }, (_, i) => i);
    expect(await Promise.all(rows.map((i) => batcher.submit(i)))).toEqual(rows);
    expect(most).toBe(4);
  });

  it("with keysOf, puts rows sharing a key in later batches, each key's rows in submission order", async () => {
    const calls: string[][] = [];
    const batcher = new WriteBatcher(
      async (items: string[]) => (calls.push(items), items),
      10,
      undefined,
      (item) => item.split('+'),
    );
    // b+c waits behind b; c waits behind b+c although no earlier batch row names c; d is free.
    await Promise.all(['a', 'b', 'b+c', 'c', 'd', 'a'].map((i) => batcher.submit(i)));
    expect(calls).toEqual([['a', 'b', 'd'], ['b+c', 'a'], ['c']]);
  });
});
