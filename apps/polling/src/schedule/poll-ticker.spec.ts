import type { ProviderAdapter } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import type { ScheduledCheck } from './poll-schedule.repository';
import { PollTicker } from './poll-ticker';

// The ticker's lease renewal, on fake timers: which claims it renews, and when it stops renewing.

const LEASE_MS = 30_000;

const claimOf = (jobId: string): ScheduledCheck => ({
  jobId, provider: 'sim', providerTaskId: `task-${jobId}`, acceptedAt: new Date(), deadlineAt: new Date(Date.now() + 3_600_000), nextCheckAt: new Date(),
  checksDone: 0, checkErrors: 0, leaseToken: `token-${jobId}`, claimedAt: new Date(), latenessMs: 0, progress: null, delayedMarked: false, metadata: {},
});

/** Deps whose provider checks hang until `finish(jobId)`; every renewal is recorded with the job ids it asked for. */
function fakeDeps() {
  const due: ScheduledCheck[] = [];
  const renewals: string[][] = [];
  const pending = new Map<string, (err: Error) => void>();
  const timer = { startTimer: () => () => undefined, observe: () => undefined, inc: () => undefined };
  const adapter = { name: 'sim', check: (taskId: string) => new Promise((_, reject) => pending.set(taskId.replace(/^task-/, ''), reject)) } as unknown as ProviderAdapter;
  const deps = {
    adapters: new Map([['sim', adapter]]),
    schedule: {
      onDueNow: () => undefined,
      claimDue: async (limit: number) => due.splice(0, limit),
      renewLeases: async (claims: readonly ScheduledCheck[]) => (renewals.push(claims.map((c) => c.jobId)), new Set(claims.map((c) => c.jobId))),
      reschedule: async () => true,
    },
    policyFor: () => ({ offsetsMs: [5_000], delayedIntervalMs: 60_000, deadlineMs: 3_600_000, errorRetryMs: 10_000 }),
    checkTimeoutMs: 10_000,
    metrics: { checkLateness: timer, checkSeconds: timer, checkErrors: timer, shared: { providerCalls: timer, providerErrors: timer } },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
  } as unknown as PollingDeps;
  return { deps, due, renewals, finish: (jobId: string) => pending.get(jobId)?.(new Error('connection reset')) };
}

describe('PollTicker lease renewal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

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
