import type { RecordedEvent } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import type { DataSource } from 'typeorm';
import type { NatsConnection } from '@reelay/messaging';
import { createLogger } from '@reelay/service-kit';
import type { NewDelivery, WebhookDeliveryStore } from '../deliver-webhooks/webhook-delivery-store';
import type { WebhookDeliverer } from '../deliver-webhooks/webhook-deliverer';
import type { NotificationDeps } from '../notification.deps';
import { WebhookHistorySweep } from '../forget-webhook-history/webhook-history-sweep';
import { JobStateCache } from '../shared/job-state-cache';
import { lifecycle, newTestJobId, recordedJobEvents } from '../testing/job-events';
import { notifyJobEvent } from './notify-job-event.handler';

const jobId = newTestJobId();
const life = lifecycle(jobId, 'u1', 'https://example.com/hook');
const stream = recordedJobEvents(jobId, life.events);

/** Lets other handlers run in between, as a query round trip would. */
const pause = (turns: number) => Array.from({ length: turns }).reduce<Promise<void>>((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve());

/**
 * The webhook table and the job stream shared by every replica. `record` checks the ordering the
 * deliverer relies on: a status change is never recorded before an earlier one of its job.
 */
function world(opts: { random?: () => number; beforeRecord?: (batch: NewDelivery[]) => Promise<void> } = {}) {
  const rows = new Map<number, NewDelivery>();
  const violations: string[] = [];
  const reads: number[] = [];
  const wait = () => pause(opts.random ? Math.floor(opts.random() * 3) : 0);
  const store = {
    readStream: async (_streamId: string, fromVersion = 1) => {
      reads.push(fromVersion);
      await wait();
      return stream.filter((e) => e.streamVersion >= fromVersion);
    },
  } as unknown as EventStore;
  const deliveries = {
    record: async (batch: NewDelivery[]) => {
      await wait();
      await opts.beforeRecord?.(batch);
      const versions = new Set(batch.map((d) => d.version));
      for (const d of batch) {
        const missing = life.statusVersions.filter((v) => v < d.version && !rows.has(v) && !versions.has(v));
        if (missing.length) violations.push(`v${d.version} recorded before v${missing.join(',')}`);
      }
      for (const d of batch) if (!rows.has(d.version)) rows.set(d.version, d);
    },
  } as unknown as WebhookDeliveryStore;
  /** One notification process with its own cache; pushes are `[event version, pushed version, status, progress]`. */
  const replica = (cacheSize = 10_000) => {
    const pushes: unknown[][] = [];
    let handling = 0;
    const nc = { isClosed: () => false, isDraining: () => false, publish: (_s: string, data: string) => { const p = JSON.parse(data); pushes.push([handling, p.version, p.job.status, p.job.progress]); } };
    const deps: Omit<NotificationDeps, 'secrets'> = {
      store, deliveries, nc: nc as unknown as NatsConnection, prefix: 't', jobs: new JobStateCache(cacheSize),
      deliverer: { kick: () => undefined } as unknown as WebhookDeliverer, logger: createLogger('notification', 'silent'),
    };
    const push = (e: RecordedEvent) => {
      handling = e.streamVersion;
      return notifyJobEvent(deps, e);
    };
    return { deps, pushes, push };
  };
  return { rows, violations, reads, replica };
}

/** What the handler without any cache pushes for each event: the reference the cached one must match. */
async function uncachedPushes() {
  const w = world();
  const r = w.replica(0);
  for (const e of stream) await r.push(e);
  return r.pushes;
}

describe('notifyJobEvent with the job state cache', () => {
  it('given no cached state, when a job’s events arrive in order, then none reads the stream and everything matches the uncached handler', async () => {
    const w = world();
    const r = w.replica();
    for (const e of stream) await r.push(e);

    expect(w.reads).toEqual([]);
    expect(r.pushes).toEqual(await uncachedPushes());
    expect([...w.rows.keys()]).toEqual(life.statusVersions);
    expect(w.violations).toEqual([]);
  });

  it('given a state cached at version 2 and versions 3–6 handled by another replica, when version 7 arrives, then only versions 3 on are read and recorded', async () => {
    const w = world();
    const [a, b] = [w.replica(), w.replica()];
    for (const e of stream.slice(0, 2)) await a.push(e);
    for (const e of stream.slice(2, 6)) await b.push(e);
    const recorded: number[][] = [];
    const record = a.deps.deliveries.record.bind(a.deps.deliveries);
    a.deps.deliveries = { record: (batch: NewDelivery[]) => (recorded.push(batch.map((d) => d.version)), record(batch)) } as unknown as WebhookDeliveryStore;

    w.reads.length = 0;
    await a.push(stream[6]);

    expect(w.reads).toEqual([3]);
    expect(recorded).toEqual([[5, 7]]);
    expect(a.pushes.at(-1)).toEqual([7, 7, 'delayed', 50]);
    expect(a.deps.jobs.get(stream[0].streamId)?.version).toBe(7);
  });

  it('given version 2 still being handled in this process, when version 3 arrives, then it waits for version 2’s state instead of reading', async () => {
    let release!: () => void;
    const w = world({ beforeRecord: (batch) => (batch[0].version === 2 ? new Promise<void>((done) => (release = done)) : Promise.resolve()) });
    const r = w.replica();
    await r.push(stream[0]);
    const second = r.push(stream[1]);
    const third = r.push(stream[2]);
    await pause(3);
    expect(r.deps.jobs.get(stream[0].streamId)?.version).toBe(1);

    release();
    await Promise.all([second, third]);
    expect(w.reads).toEqual([]);
    expect(r.deps.jobs.get(stream[0].streamId)?.version).toBe(3);
  });

  it('given version 2’s handler fails while version 3 waits for it, then version 3 reads from version 2 on and records its status change', async () => {
    let failures = 1;
    const w = world({ beforeRecord: (batch) => (batch[0].version === 2 && failures-- > 0 ? Promise.reject(new Error('connection lost')) : Promise.resolve()) });
    const r = w.replica();
    await r.push(stream[0]);
    const [second, third] = await Promise.allSettled([r.push(stream[1]), r.push(stream[2])]);

    expect([second.status, third.status]).toEqual(['rejected', 'fulfilled']);
    expect(w.reads).toEqual([2]);
    expect([...w.rows.keys()]).toEqual([1, 2]);
  });

  it('given a state cached at version 5, when version 3 is redelivered, then the whole stream is read, version 3 is pushed as before and the cache stays at 5', async () => {
    const w = world();
    const r = w.replica();
    for (const e of stream.slice(0, 5)) await r.push(e);
    const before = r.pushes.length;

    w.reads.length = 0;
    await r.push(stream[2]);
    await r.push(stream[1]);

    expect(w.reads).toEqual([1, 1]);
    expect(r.pushes.slice(before)).toEqual([[2, 2, 'validating', null]]); // version 3 changes nothing visible, version 2 pushes again
    expect(r.deps.jobs.get(stream[0].streamId)?.version).toBe(5);
  });

  it('given events spread over two replicas, redelivered and handled concurrently, then pushes match the uncached handler and every status change is recorded in order', async () => {
    const reference = new Map<number, unknown[][]>();
    for (const p of await uncachedPushes()) reference.set(p[0] as number, [...(reference.get(p[0] as number) ?? []), p]);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    for (let trial = 0; trial < 200; trial++) {
      const w = world({ random });
      const replicas = [w.replica(), w.replica()];
      // Mostly in order, some events twice, some out of order (a redelivery after later events).
      const deliveries = stream.flatMap((e) => (random() < 0.25 ? [e, e] : [e]));
      for (let i = 0; i < deliveries.length - 1; i++) if (random() < 0.2) [deliveries[i], deliveries[i + 1]] = [deliveries[i + 1], deliveries[i]];
      const handled: { replica: number; version: number; pushes: unknown[][] }[] = [];
      for (let i = 0; i < deliveries.length; ) {
        const together = deliveries.slice(i, (i += 1 + Math.floor(random() * 3)));
        await Promise.all(
          together.map(async (e) => {
            const which = Math.floor(random() * 2);
            const r = replicas[which];
            const pushes: unknown[][] = [];
            const deps = { ...r.deps, nc: { isClosed: () => false, isDraining: () => false, publish: (_s: string, data: string) => { const p = JSON.parse(data); pushes.push([e.streamVersion, p.version, p.job.status, p.job.progress]); } } as unknown as NatsConnection };
            await notifyJobEvent(deps, e);
            handled.push({ replica: which, version: e.streamVersion, pushes });
          }),
        );
      }

      for (const h of handled) expect(h.pushes).toEqual(reference.get(h.version) ?? []);
      expect(w.violations).toEqual([]);
      expect([...w.rows.keys()].sort((x, y) => x - y)).toEqual(life.statusVersions);
      expect(w.rows.get(8)?.eventType).toBe('video.job.succeeded');
    }
  });
});

describe('notifyJobEvent with webhookEvents', () => {
  it('given a job that asked only for its end, then only the succeeded notice is recorded for its webhook, and every change is still pushed live', async () => {
    const id = newTestJobId();
    const events = lifecycle(id, 'u1', 'https://example.com/hook').events;
    const [submitted, ...rest] = events;
    const asked = [{ ...submitted, data: { ...submitted.data, webhookEvents: ['video.job.succeeded', 'video.job.failed'] } }, ...rest];
    const recorded: NewDelivery[] = [];
    const pushed: string[] = [];
    const deps: Omit<NotificationDeps, 'secrets'> = {
      store: { readStream: async () => recordedJobEvents(id, asked) } as unknown as EventStore,
      deliveries: { record: async (batch: NewDelivery[]) => void recorded.push(...batch) } as unknown as WebhookDeliveryStore,
      nc: { isClosed: () => false, isDraining: () => false, publish: (_s: string, data: string) => void pushed.push(JSON.parse(data).job.status) } as unknown as NatsConnection,
      prefix: 't',
      jobs: new JobStateCache(100),
      deliverer: { kick: () => undefined } as unknown as WebhookDeliverer,
      logger: createLogger('notification', 'silent'),
    };
    for (const e of recordedJobEvents(id, asked)) await notifyJobEvent(deps, e);
    expect(recorded.map((d) => [d.version, d.eventType])).toEqual([[8, 'video.job.succeeded']]);
    expect(new Set(pushed)).toEqual(new Set(['queued', 'validating', 'running', 'delayed', 'succeeded']));
  });
});

describe('notifyJobEvent and the webhook history', () => {
  it('given a job whose earlier webhooks ended longer ago than the history keeps, when a new event of it arrives with nothing cached, then only its own notice is recorded, not the forgotten ones again', async () => {
    const longAgo = new Date(Date.now() - 40 * 24 * 3_600_000).toISOString();
    const aged = stream.map((e, i) => (i < 6 ? { ...e, recordedAt: longAgo } : { ...e, recordedAt: new Date().toISOString() }));
    const recorded: number[] = [];
    const deps: Omit<NotificationDeps, 'secrets'> = {
      store: { readStream: async () => aged } as unknown as EventStore,
      deliveries: { record: async (batch: NewDelivery[]) => void recorded.push(...batch.map((d) => d.version)) } as unknown as WebhookDeliveryStore,
      nc: { isClosed: () => false, isDraining: () => false, publish: () => undefined } as unknown as NatsConnection,
      prefix: 't',
      jobs: new JobStateCache(),
      history: new WebhookHistorySweep({ query: async () => [] } as unknown as DataSource, 30, createLogger('notification', 'silent')),
      deliverer: { kick: () => undefined } as unknown as WebhookDeliverer,
      logger: createLogger('notification', 'silent'),
    };
    await notifyJobEvent(deps, aged[6]!);
    expect(recorded).toEqual([7]);
  });
});
