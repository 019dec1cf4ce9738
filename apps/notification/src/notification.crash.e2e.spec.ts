import { EventStore, openMigrated } from '@reelay/event-store';
import { createTestDatabase, startService, TEST_NATS_URL, uniqueNatsPrefix, type ServiceProcess, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { webhookId } from './deliver-webhooks/send-webhook';
import { NOTIFICATION_MIGRATIONS } from './migrations';
import { appendOne, lifecycle, newTestJobId } from './testing/job-events';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver';

// Runs apps/notification/dist/main.js: build first (npx nx run notification:build).
const JOBS = 12;

let db: TestDatabase;
let ds: DataSource;
let store: EventStore;
let receiver: WebhookReceiver;
let service: ServiceProcess | undefined;
let env: Record<string, string>;
/** The first job's `validating` webhook is held unanswered until the process has been killed. */
let heldJobId = '';
let held: { arrived: boolean; release: () => void } = { arrived: false, release: () => undefined };
const releaseHeld = new Promise<void>((r) => (held.release = r));

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = await createTestDatabase('notification_crash');
  ds = await openMigrated(db.url, { poolSize: 4, migrations: NOTIFICATION_MIGRATIONS });
  store = new EventStore(ds);
  // A slow receiver keeps deliveries in flight when the process is killed.
  receiver = await startWebhookReceiver(async (path, body) => {
    if (path === `/hooks/${heldJobId}` && JSON.parse(body).data.version === 2 && !held.arrived) {
      held.arrived = true;
      await releaseHeld;
    }
    await new Promise((r) => setTimeout(r, 25));
    return 200;
  });
  env = {
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    NATS_PREFIX: uniqueNatsPrefix('notifcrash'),
    WEBHOOK_MASTER_SECRET: 'test-master-secret-0123456789',
    OUTBOUND_ALLOW_HOSTS: receiver.host,
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_TICK_MS: '100',
    WEBHOOK_BACKOFF_BASE_MS: '100',
    CONSUMER_ACK_WAIT_MS: '2000',
    CONSUMER_CONCURRENCY: '4',
  };
}, 30_000);

afterAll(async () => {
  await service?.kill('SIGKILL');
  await receiver?.close();
  await ds?.destroy();
  await db?.drop();
});

it('loses no status change and keeps per-job order across a kill -9 and restart', async () => {
  service = await startService('notification', env);
  await service.ready();

  const jobs = Array.from({ length: JOBS }, () => newTestJobId()).map((jobId, i) => ({
    jobId,
    ...lifecycle(jobId, `crash-user-${i % 3}`, receiver.url(`/hooks/${jobId}`)),
  }));
  heldJobId = jobs[0].jobId;
  const appendStep = (step: number) => Promise.all(jobs.map((j) => appendOne(store, j.jobId, j.events[step])));

  for (let step = 0; step < 4; step++) await appendStep(step);
  await until('a webhook attempt in flight', () => held.arrived);
  const beforeKill = receiver.received.length;
  expect(await service.kill('SIGKILL')).toBeNull(); // killed by the signal, no exit code
  held.release(); // the receiver got it, the killed sender never saw the answer: it must be sent again

  for (let step = 4; step < 8; step++) await appendStep(step); // status changes keep coming while it is down

  service = await startService('notification', env);
  await service.ready();

  const versionsFor = (jobId: string) => receiver.received.filter((r) => r.path === `/hooks/${jobId}`).map((r) => r.headers['webhook-id']);
  await until('every status change delivered', () => jobs.every((j) => new Set(versionsFor(j.jobId)).size === j.statusVersions.length));

  expect(beforeKill).toBeLessThan(JOBS * 5);
  for (const j of jobs) {
    const expected = j.statusVersions.map((v) => webhookId(j.jobId, v));
    const seen = versionsFor(j.jobId);
    // At least once: a delivery cut off by the kill may arrive twice, but never after a later one.
    const firstSeen = seen.filter((id, i) => seen.indexOf(id) === i);
    expect(firstSeen).toEqual(expected);
    expect(seen.map((id) => expected.indexOf(id as string))).toEqual([...seen.map((id) => expected.indexOf(id as string))].sort((a, b) => a - b));
  }
  // The receiver counts a request before the sender has recorded its answer: wait for the records.
  const statuses = () => ds.query(`SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status`) as Promise<{ status: string; n: string }[]>;
  await until('every delivery recorded', async () => (await statuses()).every((r) => r.status === 'delivered'));
  const heldAttempts: { outcome: string }[] = await ds.query(
    `SELECT outcome FROM webhook_attempts WHERE job_id = $1 AND version = 2 ORDER BY id`,
    [heldJobId],
  );
  expect(heldAttempts.map((a) => a.outcome)).toEqual(['interrupted', 'delivered']);
  expect(await statuses()).toEqual([{ status: 'delivered', n: String(JOBS * 5) }]);
}, 60_000);
