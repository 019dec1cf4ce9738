import { createLogger } from '@reelay/service-kit';
import type { AttemptResult } from './attempt-result';
import { WebhookDeliverer } from './webhook-deliverer';
import type { ClaimedDelivery, WebhookDeliveryStore } from './webhook-delivery-store';

/** Due deliveries, one per job, handed out by claim() like the store (a job's row once). */
function fakeStore(jobIds: string[]) {
  const due = [...jobIds];
  const claimed: string[] = [];
  const store = {
    claim: async (opts: { jobId?: string; limit: number }) => {
      const picked = (opts.jobId ? due.filter((j) => j === opts.jobId) : due).slice(0, opts.limit);
      for (const j of picked) due.splice(due.indexOf(j), 1);
      claimed.push(...picked);
      return picked.map((jobId): ClaimedDelivery => ({ jobId, version: 1, userId: 'u', url: `https://hooks.example.com/${jobId}`, eventType: 'video.job.queued', body: '{}', attempt: 1, attemptId: `a-${jobId}`, leaseToken: 't' }));
    },
    finish: async (_c: ClaimedDelivery, r: AttemptResult) => (r.outcome === 'delivered' ? 'delivered' : 'pending'),
  };
  return { store: store as unknown as WebhookDeliveryStore, due, claimed };
}

const delivered: AttemptResult = { outcome: 'delivered', httpStatus: 200, error: null, durationMs: 1, permanent: false };
const flush = () => new Promise((r) => setImmediate(r));
/** Waits (a bounded number of short turns) for what timers and promises will bring about. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!done()) throw new Error(`never: ${what}`);
}

describe('WebhookDeliverer slots', () => {
  const started: WebhookDeliverer[] = [];
  afterEach(async () => {
    for (const d of started.splice(0)) await d.stop();
  });

  /** A sender whose calls to `slow` hang until released; every other call answers at once. */
  function sender() {
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const slowAnswered = new Promise<void>((r) => (release = r));
    const send = async (d: ClaimedDelivery) => {
      sent.push(d.jobId);
      if (d.jobId === 'slow') await slowAnswered;
      return delivered;
    };
    return { sent, send, release: () => release() };
  }
  const deliverer = (store: WebhookDeliveryStore, send: (d: ClaimedDelivery) => Promise<AttemptResult>, concurrency: number) =>
    new WebhookDeliverer({ store, send, policy: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 }, timeoutMs: 1000, tickMs: 60_000, concurrency, logger: createLogger('spec', 'silent') });

  it('a receiver that hangs holds one slot, not the round: the next tick fills the slots the others freed', async () => {
    const { store, claimed } = fakeStore(['slow', 'a', 'b', 'c']);
    const s = sender();
    const d = deliverer(store, s.send, 2);
    started.push(d);
    expect(await d.tick()).toBe(2); // slow and a, started, not awaited
    await flush();
    expect(s.sent).toEqual(['slow', 'a']);
    expect(await d.tick()).toBe(1); // a's slot is free again while slow still hangs
    await flush();
    expect(s.sent).toEqual(['slow', 'a', 'b']);
    s.release();
    await d.settled();
    expect(await d.tick()).toBe(1);
    await d.settled();
    expect(claimed).toEqual(['slow', 'a', 'b', 'c']);
  });

  it('a kick with no free slot leaves the job due for the ticker instead of going past the limit', async () => {
    const { store, due } = fakeStore(['slow', 'k']);
    const s = sender();
    const d = deliverer(store, s.send, 1);
    d.start();
    started.push(d);
    await until("the ticker's first round to take the only slot", () => s.sent.length === 1);
    expect(s.sent).toEqual(['slow']);
    d.kick('k');
    await flush();
    expect(s.sent).toEqual(['slow']);
    expect(due).toEqual(['k']);
    s.release();
    await until('the freed slot to wake the ticker (its interval is a minute)', () => s.sent.length === 2);
    expect(s.sent).toEqual(['slow', 'k']);
  });

  it('a stop lets the attempt under way finish and starts no further one of its job', async () => {
    const { store, due } = fakeStore(['slow', 'slow', 'slow']); // three notices of one job, due in order
    const s = sender();
    const d = deliverer(store, s.send, 1);
    d.start();
    await until("the ticker's first round to start the job's first notice", () => s.sent.length === 1);
    const stopped = d.stop();
    s.release();
    await stopped;
    expect(s.sent).toEqual(['slow']);
    expect(due).toEqual(['slow', 'slow']); // left due for the next process
  });
});
