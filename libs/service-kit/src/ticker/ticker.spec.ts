import { Ticker } from './ticker';
import { currentContext, runWithContext } from '../context/request-context';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A round function whose calls the test settles one by one. */
function scriptedRounds() {
  const calls: ReturnType<typeof deferred<boolean | void>>[] = [];
  const waiters: (() => void)[] = [];
  const round = () => {
    const d = deferred<boolean | void>();
    calls.push(d);
    waiters.splice(0).forEach((w) => w());
    return d.promise;
  };
  const nth = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => waiters.push(r));
    return calls[n - 1];
  };
  return { round, calls, nth };
}

describe('Ticker', () => {
  it('runs a round at start, then one after another without overlapping', async () => {
    const s = scriptedRounds();
    const ticker = new Ticker({ round: s.round, intervalMs: 1, onError: () => undefined });
    ticker.start();
    ticker.start();
    (await s.nth(1)).resolve();
    (await s.nth(2)).resolve(true);
    const third = await s.nth(3);
    expect(s.calls).toHaveLength(3);
    third.resolve();
    const fourth = await s.nth(4);
    const stopping = ticker.stop();
    fourth.resolve();
    await stopping;
  });

  it('wake runs the next round now instead of after the interval, or right after the round under way', async () => {
    const s = scriptedRounds();
    const ticker = new Ticker({ round: s.round, intervalMs: 60_000, onError: () => undefined });
    ticker.start();
    (await s.nth(1)).resolve();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.calls).toHaveLength(1); // waiting out the interval
    ticker.wake();
    const second = await s.nth(2);
    ticker.wake(); // during the round
    second.resolve();
    const third = await s.nth(3);
    expect(s.calls).toHaveLength(3);
    const stopping = ticker.stop();
    third.resolve();
    await stopping;
    ticker.wake(); // stopped: nothing more
    await new Promise((r) => setTimeout(r, 20));
    expect(s.calls).toHaveLength(3);
  });

  it('reports a failed round and carries on', async () => {
    const s = scriptedRounds();
    const errors: unknown[] = [];
    const ticker = new Ticker({ round: s.round, intervalMs: 1, onError: (e) => errors.push(e) });
    ticker.start();
    const boom = new Error('boom');
    (await s.nth(1)).reject(boom);
    const second = await s.nth(2);
    expect(errors).toEqual([boom]);
    const stopping = ticker.stop();
    second.resolve();
    await stopping;
  });

  it('stop waits for the round under way and starts no other', async () => {
    const s = scriptedRounds();
    const ticker = new Ticker({ round: s.round, intervalMs: 1, onError: () => undefined });
    ticker.start();
    const first = await s.nth(1);
    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    first.resolve(true);
    await stopping;
    await new Promise((r) => setTimeout(r, 10));
    expect(s.calls).toHaveLength(1);
  });
});

describe('Ticker rounds woken from a unit of work', () => {
  it('run outside that work: a wake() from a job handler does not lend its job id to this round or the rounds after it', async () => {
    const seen: (string | undefined)[] = [];
    let woken = false;
    const ticker = new Ticker({
      // The first round waits out the interval; from the woken one on, each says more is due.
      round: async () => {
        seen.push(currentContext().jobId);
        return seen.length > 1 && seen.length < 5;
      },
      intervalMs: 60_000,
      onError: () => undefined,
    });
    ticker.start();
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 1));
    runWithContext({ jobId: 'job_A' }, () => {
      ticker.wake();
      woken = true;
    });
    while (seen.length < 5) await new Promise((r) => setTimeout(r, 1));
    await ticker.stop();
    expect(woken).toBe(true);
    expect(seen.filter((id) => id !== undefined)).toEqual([]);
  });
});
