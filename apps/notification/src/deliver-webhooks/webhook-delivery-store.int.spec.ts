import { openMigrated } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { NOTIFICATION_MIGRATIONS } from '../migrations';
import { WebhookDeliveryStore, type NewDelivery } from './webhook-delivery-store';

let db: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('webhook-claims');
  dataSource = await openMigrated(db.url, { poolSize: 4, migrations: NOTIFICATION_MIGRATIONS });
}, 30_000);

afterAll(async () => {
  await dataSource?.destroy();
  await db?.drop();
});

const notice = (userId: string, jobId: string, version = 1): NewDelivery => ({
  jobId, version, userId, url: `https://${userId}.example/hook`, eventType: 'video.job.queued', body: '{}',
});

describe('claiming webhook deliveries', () => {
  it('given one user with a backlog of due jobs, then a claim takes at most the per-user bound of them and the other users\' jobs too', async () => {
    const store = new WebhookDeliveryStore(dataSource, 3);
    // The slow user's rows are the oldest due: claimed oldest first, they would fill every slot.
    await store.record(Array.from({ length: 12 }, (_, i) => notice('slow', `job_slow_${String(i).padStart(2, '0')}`)));
    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute' WHERE user_id = 'slow'`);
    await store.record([notice('alice', 'job_alice_1'), notice('bob', 'job_bob_1'), notice('bob', 'job_bob_2')]);

    const first = await store.claim({ limit: 8, leaseMs: 60_000 });
    expect(first.filter((d) => d.userId === 'slow').map((d) => d.jobId)).toEqual(['job_slow_00', 'job_slow_01', 'job_slow_02']);
    expect(first.filter((d) => d.userId !== 'slow').map((d) => d.jobId).sort()).toEqual(['job_alice_1', 'job_bob_1', 'job_bob_2']);

    // Its three attempts are still in flight (leased): the next claim, on any replica, takes none of its rows.
    await store.record([notice('carol', 'job_carol_1')]);
    const second = await store.claim({ limit: 8, leaseMs: 60_000 });
    expect(second.map((d) => d.jobId)).toEqual(['job_carol_1']);

    // One of them ends: one more of its rows may go.
    await store.finish(first.find((d) => d.userId === 'slow')!, { outcome: 'timeout', httpStatus: null, error: 'timeout', durationMs: 10_000, permanent: false }, { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const third = await store.claim({ limit: 8, leaseMs: 60_000 });
    expect(third.map((d) => d.jobId)).toEqual(['job_slow_03']);
  });

  it('given a claim with room for one, then a user with fewer deliveries under way goes first, however long another user\'s backlog has been due', async () => {
    await dataSource.query(`DELETE FROM webhook_attempts; DELETE FROM webhook_deliveries`);
    const store = new WebhookDeliveryStore(dataSource, 8);
    await store.record(Array.from({ length: 10 }, (_, i) => notice('backlog', `job_backlog_${String(i).padStart(2, '0')}`)));
    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 hour' WHERE user_id = 'backlog'`);
    // Seven of its deliveries are under way (as at a receiver that holds every request until the timeout).
    expect(await store.claim({ limit: 7, leaseMs: 60_000 })).toHaveLength(7);
    await store.record([notice('dave', 'job_dave_1')]);
    expect((await store.claim({ limit: 1, leaseMs: 60_000 })).map((d) => d.jobId)).toEqual(['job_dave_1']);
    expect((await store.claim({ limit: 1, leaseMs: 60_000 })).map((d) => d.jobId)).toEqual(['job_backlog_07']);
    await dataSource.query(`DELETE FROM webhook_attempts; DELETE FROM webhook_deliveries`);
  });

  it('given an attempt that was never sent (reelay could not sign it), then it is not counted: the delivery stays pending with its retry budget whole', async () => {
    const store = new WebhookDeliveryStore(dataSource, 8);
    await store.record([notice('frank', 'job_frank_1')]);
    const policy = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    const [claimed] = await store.claim({ jobId: 'job_frank_1', limit: 1, leaseMs: 60_000 });
    const notSent = { outcome: 'network_error', httpStatus: null, error: 'not sent: the signing secret could not be read', durationMs: 3, permanent: false, notSent: true } as const;
    expect(await store.finish(claimed!, notSent, policy)).toBe('pending');
    const [row] = await dataSource.query(`SELECT attempts, last_error FROM webhook_deliveries WHERE job_id = 'job_frank_1'`);
    expect(row).toEqual({ attempts: 0, last_error: notSent.error });
    expect(await dataSource.query(`SELECT 1 FROM webhook_attempts WHERE job_id = 'job_frank_1'`)).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    const [again] = await store.claim({ jobId: 'job_frank_1', limit: 1, leaseMs: 60_000 });
    expect(again?.attempt).toBe(1);
    expect(await store.finish(again!, { outcome: 'http_error', httpStatus: 500, error: 'HTTP 500', durationMs: 3, permanent: false }, policy)).toBe('failed');
  });

  it('given a notice waiting for its retry, then the job\'s later notices, recorded before or after, are due no sooner, and go in order after it', async () => {
    const store = new WebhookDeliveryStore(dataSource, 3);
    await store.record([notice('erin', 'job_erin_1', 1), notice('erin', 'job_erin_1', 2)]);
    const [head] = await store.claim({ jobId: 'job_erin_1', limit: 1, leaseMs: 60_000 });
    const policy = { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    expect(await store.finish(head, { outcome: 'http_error', httpStatus: 503, error: 'HTTP 503', durationMs: 5, permanent: false }, policy)).toBe('pending');
    await store.record([notice('erin', 'job_erin_1', 3)]);
    const due = async () =>
      (await dataSource.query(`SELECT version FROM webhook_deliveries WHERE job_id = 'job_erin_1' AND status = 'pending' AND next_attempt_at <= now() ORDER BY version`)).map((r: { version: number }) => r.version);
    expect(await due()).toEqual([]);

    // The retry's time comes: the head goes first, then the rest in order.
    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE job_id = 'job_erin_1' AND version = 1`);
    expect(await due()).toEqual([1]);
    const [retry] = await store.claim({ jobId: 'job_erin_1', limit: 1, leaseMs: 60_000 });
    expect(retry.version).toBe(1);
    await store.finish(retry, { outcome: 'delivered', httpStatus: 200, error: null, durationMs: 5, permanent: false }, policy);
    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE job_id = 'job_erin_1' AND status = 'pending'`);
    expect((await store.claim({ jobId: 'job_erin_1', limit: 1, leaseMs: 60_000 })).map((d) => d.version)).toEqual([2]);
  });

  it('keeps each job\'s order: a claim for one job takes only its oldest pending notice', async () => {
    const store = new WebhookDeliveryStore(dataSource, 3);
    await store.record([notice('dave', 'job_dave_1', 1), notice('dave', 'job_dave_1', 2)]);
    expect((await store.claim({ jobId: 'job_dave_1', limit: 5, leaseMs: 60_000 })).map((d) => d.version)).toEqual([1]);
    expect(await store.claim({ jobId: 'job_dave_1', limit: 5, leaseMs: 60_000 })).toEqual([]);
  });
});
