import { emptyJobSnapshot, type JobSnapshot } from './job-history';
import { JobStateCache } from './job-state-cache';

const at = (version: number): JobSnapshot => ({ ...emptyJobSnapshot(), version });

describe('JobStateCache', () => {
  it('given a snapshot of a job, when a newer one is remembered, then the newer one is returned', () => {
    const cache = new JobStateCache(10);
    cache.remember('job-a', at(3));
    cache.remember('job-a', at(4));
    expect(cache.get('job-a')?.version).toBe(4);
  });

  it('given a snapshot of a job, when an older one is remembered (its handler finished later), then the newer one stays', () => {
    const cache = new JobStateCache(10);
    cache.remember('job-a', at(5));
    cache.remember('job-a', at(4));
    expect(cache.get('job-a')?.version).toBe(5);
  });

  it('given a full cache, when another job is remembered, then the least recently used job is evicted', () => {
    const cache = new JobStateCache(2);
    cache.remember('job-a', at(1));
    cache.remember('job-b', at(1));
    cache.get('job-a'); // job-b is now the least recently used
    cache.remember('job-c', at(1));
    expect([cache.get('job-a')?.version, cache.get('job-b'), cache.get('job-c')?.version]).toEqual([1, undefined, 1]);
    expect(cache.size).toBe(2);
  });

  it('given a size of 0, when a snapshot is remembered, then nothing is kept', () => {
    const cache = new JobStateCache(0);
    cache.remember('job-a', at(1));
    expect(cache.get('job-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
