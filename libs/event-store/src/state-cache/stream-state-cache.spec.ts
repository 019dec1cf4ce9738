import { StreamStateCache } from './stream-state-cache';

const foldA = { name: 'a' };
const foldB = { name: 'b' };

describe('StreamStateCache', () => {
  it('given a state set for a stream, when read with the same fold, then it returns the state and its version', () => {
    const cache = new StreamStateCache();
    cache.set(foldA, 's-1', { n: 3 }, 3);
    expect(cache.get(foldA, 's-1')).toEqual({ state: { n: 3 }, version: 3 });
  });

  it('given a state folded by another fold, when read, then it is a miss', () => {
    const cache = new StreamStateCache();
    cache.set(foldA, 's-1', { n: 3 }, 3);
    expect(cache.get(foldB, 's-1')).toBeUndefined();
  });

  it('given states of two folds of one stream, when both are read, then each keeps its own', () => {
    const cache = new StreamStateCache();
    cache.set(foldA, 's-1', 'a', 3);
    cache.set(foldB, 's-1', 'b', 2);
    expect(cache.get(foldA, 's-1')).toEqual({ state: 'a', version: 3 });
    expect(cache.get(foldB, 's-1')).toEqual({ state: 'b', version: 2 });
  });

  it('given a newer state, when an older one is set, then the newer one stays', () => {
    const cache = new StreamStateCache();
    cache.set(foldA, 's-1', { n: 5 }, 5);
    cache.set(foldA, 's-1', { n: 4 }, 4);
    expect(cache.get(foldA, 's-1')?.version).toBe(5);
  });

  it('given a full cache, when a new stream is set, then the least recently used one is evicted', () => {
    const cache = new StreamStateCache(2);
    cache.set(foldA, 's-1', 1, 1);
    cache.set(foldA, 's-2', 2, 1);
    cache.get(foldA, 's-1'); // s-2 is now the least recently used
    cache.set(foldA, 's-3', 3, 1);
    expect(cache.size).toBe(2);
    expect(cache.get(foldA, 's-2')).toBeUndefined();
    expect(cache.get(foldA, 's-1')?.state).toBe(1);
    expect(cache.get(foldA, 's-3')?.state).toBe(3);
  });
});
