import { ProviderError, type ProviderAdapter } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import type { ScheduledCheck } from './poll-schedule.repository';
import { PollTicker } from './poll-ticker';
import { ProviderPauses } from './provider-pauses';

// The ticker on fake timers: which claims it renews and when it stops renewing, and how the slots
// that follow writes hold count against its concurrency.

const LEASE_MS = 30_000;

const claimOf = (jobId: string, provider = 'sim'): ScheduledCheck => ({
  jobId, provider, providerTaskId: `task-${jobId}`, acceptedAt: new Date(), deadlineAt: new Date(Date.now() + 3_600_000), cancelAt: null, nextCheckAt: new Date(),
  checksDone: 0, checkErrors: 0, leaseToken: `token-${jobId}`, claimedAt: new Date(), latenessMs: 0, reclaimed: false, progress: null, delayedMarked: false, lastStatus: null, draining: false, metadata: {},
});

/** Deps whose provider checks hang until `finish(jobId)`; every renewal is recorded with the job ids it asked for. */
function fakeDeps() {
  const due: ScheduledCheck[] = [];
  const renewals: string[][] = [];
  const claimLimits: number[] = [];
  const skipped: string[][] = [];
  const pending = new Map<string, (err: Error) => void>();
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const timer = { startTimer: () => () => undefined, observe: () => undefined, inc: () => undefined };
  const adapter = { name: 'sim', check: (taskId: string) => new Promise((_, reject) => pending.set(taskId.replace(/^task-/, ''), reject)) } as unknown as ProviderAdapter;
  const deps = {
    adapters: new Map([['sim', adapter]]),
    schedule: {
      onDueNow: () => undefined,
      offerSlots: () => undefined,
      claimDue: async (limit: number, _leaseMs: number, skip: string[] = [], room: { of?: Map<string, number>; others?: number } = {}) => {
        claimLimits.push(limit);
        skipped.push(skip);
        const taken: ScheduledCheck[] = [];
        for (const c of due.filter((d) => !skip.includes(d.provider))) {
          const left = room.of?.get(c.provider) ?? room.others ?? limit;
          if (taken.length < limit && taken.filter((t) => t.provider === c.provider).length < left) taken.push(c);
        }
        for (const c of taken) due.splice(due.indexOf(c), 1);
        return taken;
      },
      renewLeases: async (claims: readonly ScheduledCheck[]) => (renewals.push(claims.map((c) => c.jobId)), new Set(claims.map((c) => c.jobId))),
      reschedule: async () => true,
    },
    policyFor: () => ({ offsetsMs: [5_000], delayedIntervalMs: 60_000, deadlineMs: 3_600_000, errorRetryMs: 10_000 }),
    checkTimeoutMs: 10_000,
    metrics: { checkLateness: timer, checkSeconds: timer, checkErrors: timer, shared: { providerCalls: timer, providerErrors: timer } },
    pauses: new ProviderPauses(logger),
    logger,
  } as unknown as PollingDeps;
  return { deps, due, renewals, claimLimits, skipped, finish: (jobId: string, err = new Error('connection reset')) => pending.get(jobId)?.(err) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('PollTicker lease renewal', () => {
  it('renews a running check every third of the lease, and gives up on one stuck for 15 minutes', async () => {
    const { deps, due, renewals, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    due.push(claimOf('job_stuck'));
    ticker.start();
    await jest.advanceTimersByTimeAsync(LEASE_MS / 3 + 1);
    expect(renewals).toEqual([['job_stuck']]);
    await jest.advanceTimersByTimeAsync(14 * 60_000);
    expect(renewals.every((ids) => ids.includes('job_stuck'))).toBe(true);
    renewals.length = 0;
    await jest.advanceTimersByTimeAsync(2 * 60_000);
    // Past 15 minutes the stuck check's lease is left to expire, so another replica can retake the job.
    expect(renewals.length).toBeGreaterThan(0);
    expect(renewals.at(-1)).toEqual([]);
    finish('job_stuck');
    await jest.advanceTimersByTimeAsync(10);
    await ticker.stop();
  });

  it('a start() made while stop() waits for running checks keeps renewing', async () => {
    const { deps, due, renewals, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    due.push(claimOf('job_a'));
    ticker.start();
    await jest.advanceTimersByTimeAsync(10);
    const stopped = ticker.stop(); // waits for job_a's check
    ticker.start();
    finish('job_a');
    await jest.advanceTimersByTimeAsync(10);
    await stopped;
    due.push(claimOf('job_b'));
    await jest.advanceTimersByTimeAsync(1_000 + LEASE_MS / 3);
    expect(renewals.at(-1)).toEqual(['job_b']);
    finish('job_b');
    await jest.advanceTimersByTimeAsync(10);
    await ticker.stop();
  });
});

describe('PollTicker slots held by follows', () => {
  it('counts held slots as taken, so claims made at insert and in rounds never exceed the concurrency', async () => {
    const { deps, due, claimLimits, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 3, leaseMs: LEASE_MS });
    due.push(claimOf('job_a'));
    await ticker.tick();
    expect(claimLimits).toEqual([3]);

    expect(ticker.reserve(5)).toBe(2);
    expect(ticker.reserve(1)).toBe(0);
    await ticker.tick(); // every slot is running or held: no claim statement at all
    expect(claimLimits).toEqual([3]);

    ticker.fill(2, [claimOf('job_b')]); // one held slot came back unused
    due.push(claimOf('job_c'), claimOf('job_d'));
    await ticker.tick();
    expect(claimLimits).toEqual([3, 1]);
    for (const id of ['job_a', 'job_b', 'job_c']) finish(id);
    await jest.advanceTimersByTimeAsync(10);
    await ticker.stop();
  });

  it('stop() waits for a follow write that held slots before it, and for the checks it started', async () => {
    const { deps, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    ticker.start();
    expect(ticker.reserve(1)).toBe(1);
    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    expect(ticker.reserve(1)).toBe(0); // no new holds once stopping
    await jest.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    ticker.fill(1, [claimOf('job_late')]);
    await jest.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false); // its check is running
    finish('job_late');
    await jest.advanceTimersByTimeAsync(10);
    await stopping;
    expect(stopped).toBe(true);
  });
});

describe('PollTicker and one provider that hangs', () => {
  it('claims no more rows of a provider with its cap of checks running, so the other providers\' due checks get the free slots', async () => {
    const { deps, due, skipped } = fakeDeps();
    (deps.adapters as Map<string, ProviderAdapter>).set('slow', (deps.adapters as Map<string, ProviderAdapter>).get('sim')!);
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS, perProvider: 2 });
    due.push(claimOf('slow_1', 'slow'), claimOf('slow_2', 'slow'));
    expect(await ticker.tick()).toBe(2);
    due.push(claimOf('slow_3', 'slow'), claimOf('fast_1', 'fast'));
    expect(await ticker.tick()).toBe(1);
    expect(skipped.at(-1)).toEqual(['slow']);
    expect(due.map((c) => c.jobId)).toEqual(['slow_3']);
  });

  it('takes no more of a provider\'s rows in one claim than its room under the cap', async () => {
    const { deps, due } = fakeDeps();
    for (const p of ['slow', 'fast']) (deps.adapters as Map<string, ProviderAdapter>).set(p, (deps.adapters as Map<string, ProviderAdapter>).get('sim')!);
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 8, leaseMs: LEASE_MS, perProvider: 3 });
    due.push(claimOf('slow_1', 'slow'));
    expect(await ticker.tick()).toBe(1);
    due.push(...['slow_2', 'slow_3', 'slow_4', 'slow_5'].map((id) => claimOf(id, 'slow')), claimOf('fast_1', 'fast'));
    expect(await ticker.tick()).toBe(3);
    expect(due.map((c) => c.jobId)).toEqual(['slow_4', 'slow_5']);
  });
});

describe('PollTicker and a provider that rate-limits', () => {
  it("after a 429 leaves that provider's due rows unclaimed until its Retry-After has passed, while the other providers' checks go on", async () => {
    const { deps, due, skipped, finish } = fakeDeps();
    (deps.adapters as Map<string, ProviderAdapter>).set('other', (deps.adapters as Map<string, ProviderAdapter>).get('sim')!);
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    due.push(claimOf('job_a'));
    expect(await ticker.tick()).toBe(1);
    finish('job_a', new ProviderError('rate_limited', 'HTTP 429', { retryAfterMs: 5_000 }));
    await jest.advanceTimersByTimeAsync(10);

    due.push(claimOf('job_b'), claimOf('other_1', 'other'));
    expect(await ticker.tick()).toBe(1);
    expect(skipped.at(-1)).toEqual(['sim']);
    expect(due.map((c) => c.jobId)).toEqual(['job_b']);

    await jest.advanceTimersByTimeAsync(5_000);
    expect(await ticker.tick()).toBe(1);
    expect(skipped.at(-1)).toEqual([]);
    expect(due).toEqual([]);
  });

  it('holds a provider back no longer than a minute, however long its Retry-After', async () => {
    const { deps, due, skipped, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    due.push(claimOf('job_a'));
    await ticker.tick();
    finish('job_a', new ProviderError('rate_limited', 'HTTP 429', { retryAfterMs: 3_600_000 }));
    await jest.advanceTimersByTimeAsync(59_000);
    due.push(claimOf('job_b'));
    expect(await ticker.tick()).toBe(0);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await ticker.tick()).toBe(1);
    expect(skipped.at(-1)).toEqual([]);
  });

  it('a failure other than a 429 (a 5xx, a timeout) pauses nothing', async () => {
    const { deps, due, skipped, finish } = fakeDeps();
    const ticker = new PollTicker(deps, { tickMs: 1_000, concurrency: 4, leaseMs: LEASE_MS });
    due.push(claimOf('job_a'));
    await ticker.tick();
    finish('job_a', new ProviderError('server', 'HTTP 503'));
    await jest.advanceTimersByTimeAsync(10);
    due.push(claimOf('job_b'));
    expect(await ticker.tick()).toBe(1);
    expect(skipped.at(-1)).toEqual([]);
  });
});
