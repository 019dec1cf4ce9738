import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commandSubjects, Job, JobWebhookDeliveries, liveJobSubject, type WebhookDeliveriesReply, type WebhookSecretReply, type WebhookTestReply } from '@reelay/contracts';
import { JetStreamServer, request, subscribeLive, type NatsConnection } from '@reelay/messaging';
import { verifyStandardWebhook } from '@reelay/providers';
import { connectInfra, createLogger, createMetrics, type ServiceInfra } from '@reelay/service-kit';
import { createTestDatabase, TEST_NATS_URL, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import 'reflect-metadata';
import { sendWebhook, webhookId } from './deliver-webhooks/send-webhook';
import { WebhookDeliverer } from './deliver-webhooks/webhook-deliverer';
import { WebhookDeliveryStore } from './deliver-webhooks/webhook-delivery-store';
import { NOTIFICATION_MIGRATIONS } from './migrations';
import { notificationConsumers } from './notification.consumers';
import { NotificationModule } from './notification.module';
import { JobStateCache } from './shared/job-state-cache';
import { appendOne, jobEvents, lifecycle, newTestJobId } from './testing/job-events';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver';
import { WebhookSecrets } from './webhook-secret/webhook-secrets';
import { webhookSecretFor } from '@reelay/accounts';

const MASTER = 'test-master-secret-0123456789';
const MAX_ATTEMPTS = 4;

let db: TestDatabase;
let infra: ServiceInfra;
let prefix: string;
let app: INestApplication;
let receiver: WebhookReceiver;
let secrets: WebhookSecrets;
/** How far the signing secrets' clock is ahead of the real one (to see a rotation's grace end). */
let clockAhead = 0;
/** Receivers that answer oddly: a 2xx with a large or endless body, a redirect. */
let odd: Server;
let oddHost: string;
/** Per path: how many more requests answer 500 before it answers 200. */
const failuresLeft = new Map<string, number>();

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runJob(userId: string, webhookUrl: string | null, steps = 8) {
  const jobId = newTestJobId();
  const life = lifecycle(jobId, userId, webhookUrl);
  for (const e of life.events.slice(0, steps)) await appendOne(infra.store, jobId, e);
  return { jobId, ...life };
}

const deliveries = (jobId: string) =>
  infra.dataSource.query(`SELECT version, status, attempts, last_error FROM webhook_deliveries WHERE job_id = $1 ORDER BY version`, [jobId]) as Promise<
    { version: number; status: string; attempts: number; last_error: string | null }[]
  >;
const attempts = (jobId: string) =>
  infra.dataSource.query(`SELECT version, attempt, outcome, http_status, error, duration_ms FROM webhook_attempts WHERE job_id = $1 ORDER BY id`, [jobId]) as Promise<
    { version: number; attempt: number; outcome: string; http_status: number | null; error: string | null; duration_ms: number | null }[]
  >;
const receivedFor = (jobId: string) => receiver.received.filter((r) => r.path.includes(jobId));

beforeAll(async () => {
  db = await createTestDatabase('notification');
  receiver = await startWebhookReceiver((path) => {
    const left = failuresLeft.get(path) ?? 0;
    if (left > 0) {
      failuresLeft.set(path, left - 1);
      return 500;
    }
    return 200;
  });
  odd = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/big/')) return void res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(80 * 1024));
    if (req.url?.startsWith('/moved/')) return void res.writeHead(301, { location: 'https://example.com/hook' }).end();
    if (req.url?.startsWith('/moved-nowhere/')) return void res.writeHead(302).end();
    res.writeHead(202, { 'content-type': 'text/plain' });
    res.write('still working');
    const timer = setInterval(() => res.write('.'), 200); // a body that never ends
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => odd.listen(0, '127.0.0.1', () => r()));
  oddHost = `127.0.0.1:${(odd.address() as AddressInfo).port}`;
  const logger = createLogger('notification', 'silent');
  prefix = uniqueNatsPrefix('notif');
  const config = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, NATS_PREFIX: prefix, NATS_REPLICAS: 1, LOG_LEVEL: 'silent' as const, DB_POOL_SIZE: 10 };
  infra = await connectInfra({ name: 'notification-test', config, logger, relay: true, migrations: NOTIFICATION_MIGRATIONS });
  const store = new WebhookDeliveryStore(infra.dataSource, 8);
  secrets = new WebhookSecrets(infra.dataSource, { current: MASTER }, () => new Date(Date.now() + clockAhead));
  const deliverer = new WebhookDeliverer({
    store,
    send: (d) => sendWebhook(d, { secrets: (userId) => secrets.signingSecretsOf(userId), timeoutMs: 2000, allowHosts: [receiver.host, oddHost] }),
    policy: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 50, maxDelayMs: 200 },
    timeoutMs: 2000,
    tickMs: 50,
    concurrency: 8,
    logger,
  });
  const metrics = createMetrics('notification');
  app = await NestFactory.create(
    NotificationModule.register(infra, { store: infra.store, nc: infra.nc, prefix, deliveries: store, deliverer, secrets, jobs: new JobStateCache(), logger }, metrics) as never,
    { logger: false },
  );
  app.connectMicroservice(
    {
      strategy: new JetStreamServer({ connection: infra.nc, prefix, consumers: notificationConsumers(prefix, 8), deadLetters: infra.deadLetters }),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.init();
}, 30_000);

afterAll(async () => {
  await app?.close(); // also closes the infra (relay, NATS, PostgreSQL)
  await receiver?.close();
  odd?.closeAllConnections();
  await new Promise((r) => odd?.close(r));
  await db?.drop();
});

describe('live pushes', () => {
  it('pushes the api.md job for every status or progress change, nothing for internal steps', async () => {
    const jobId = newTestJobId();
    const pushes: { version: number; job: Job }[] = [];
    const sub = subscribeLive<{ version: number; job: Job }>(infra.nc as NatsConnection, liveJobSubject(infra.prefix, jobId), (m) => pushes.push(m));
    await (infra.nc as NatsConnection).flush();
    for (const e of lifecycle(jobId, 'live-user', null).events) await appendOne(infra.store, jobId, e);

    await until('6 pushes', () => pushes.length >= 6);
    await new Promise((r) => setTimeout(r, 300)); // nothing else should arrive (versions 3 and 4 are internal)
    sub.unsubscribe();
    const byVersion = [...pushes].sort((a, b) => a.version - b.version);
    expect(byVersion.map((p) => [p.version, p.job.status, p.job.message, p.job.progress])).toEqual([
      [1, 'queued', 'Your video is waiting to start.', null],
      [2, 'validating', 'Checking your request.', null],
      [5, 'running', 'Your video is being generated.', 0],
      [6, 'running', 'Your video is being generated.', 50],
      [7, 'delayed', 'This is taking longer than usual. We are still checking.', 50],
      [8, 'succeeded', 'Your video is ready.', 100],
    ]);
    for (const p of byVersion) expect(Job.parse(p.job)).toMatchObject({ id: jobId, version: p.version });
  });
});

describe('webhooks', () => {
  it('delivers every status change once, in order, signed with the user’s derived secret', async () => {
    const userId = 'hook-user';
    const jobId = newTestJobId();
    const life = lifecycle(jobId, userId, receiver.url(`/hooks/${jobId}`));
    for (const e of life.events) await appendOne(infra.store, jobId, e);

    const got = await until('5 webhooks', () => receivedFor(jobId).length >= 5 && receivedFor(jobId));
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual(life.statuses.map((s) => `video.job.${s}`));
    expect(got.map((r) => r.headers['webhook-id'])).toEqual(life.statusVersions.map((v) => webhookId(jobId, v)));

    const secret = webhookSecretFor(MASTER, userId);
    for (const r of got) {
      expect(verifyStandardWebhook(secret, r.headers as Record<string, string>, r.body)).toBe(true);
      const body = JSON.parse(r.body);
      expect(Job.parse(body.data)).toMatchObject({ id: jobId, status: body.type.replace('video.job.', '') });
    }
    const last = got.at(-1)!;
    const tampered = last.body.replace('"succeeded"', '"failed"');
    expect(tampered).not.toBe(last.body);
    expect(verifyStandardWebhook(secret, last.headers as Record<string, string>, tampered)).toBe(false);
    expect(verifyStandardWebhook(webhookSecretFor(MASTER, 'someone-else'), last.headers as Record<string, string>, last.body)).toBe(false);

    await until('all delivered', async () => (await deliveries(jobId)).every((d) => d.status === 'delivered'));
    expect((await deliveries(jobId)).map((d) => [d.version, d.status, d.attempts])).toEqual(life.statusVersions.map((v) => [v, 'delivered', 1]));
  });

  it('tells the deletion of a succeeded job’s video as video.job.output_deleted, after the success', async () => {
    const jobId = newTestJobId();
    const life = lifecycle(jobId, 'deleting-user', receiver.url(`/hooks/${jobId}`));
    for (const e of [...life.events, jobEvents.outputDeleted()]) await appendOne(infra.store, jobId, e);

    const got = await until('6 webhooks', () => receivedFor(jobId).length >= 6 && receivedFor(jobId));
    const deleted = got.at(-1)!;
    expect(got.map((r) => JSON.parse(r.body).type).slice(-2)).toEqual(['video.job.succeeded', 'video.job.output_deleted']);
    expect(deleted.headers['webhook-id']).toBe(webhookId(jobId, life.events.length + 1));
    const job = Job.parse(JSON.parse(deleted.body).data);
    expect(job).toMatchObject({ id: jobId, status: 'succeeded', version: life.events.length + 1 });
    expect(job.output?.deletedAt).toEqual(expect.any(String));
    expect(verifyStandardWebhook(webhookSecretFor(MASTER, 'deleting-user'), deleted.headers as Record<string, string>, deleted.body)).toBe(true);
  });

  it('tells what the provider did with a canceled job’s task as video.job.cancellation_updated, after the cancel', async () => {
    const jobId = newTestJobId();
    const life = lifecycle(jobId, 'canceling-user', receiver.url(`/hooks/${jobId}`));
    const running = life.events.slice(0, 5);
    for (const e of [...running, jobEvents.canceled(), jobEvents.taskEnded('finished_at_provider')]) await appendOne(infra.store, jobId, e);

    const got = await until('5 webhooks', () => receivedFor(jobId).length >= 5 && receivedFor(jobId));
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual(['video.job.queued', 'video.job.validating', 'video.job.running', 'video.job.canceled', 'video.job.cancellation_updated']);
    const [canceled, updated] = got.slice(-2).map((r) => Job.parse(JSON.parse(r.body).data));
    expect(canceled).toMatchObject({ status: 'canceled', version: 6, cancellation: { providerTask: 'stopping' } });
    expect(updated).toMatchObject({ status: 'canceled', version: 7, cancellation: { providerTask: 'ended' } });
    expect(got.at(-1)!.headers['webhook-id']).toBe(webhookId(jobId, 7));
    expect(verifyStandardWebhook(webhookSecretFor(MASTER, 'canceling-user'), got.at(-1)!.headers as Record<string, string>, got.at(-1)!.body)).toBe(true);
  });

  it('retries a failing receiver with backoff, records every attempt, and keeps later changes behind', async () => {
    const jobId = newTestJobId();
    const path = `/flaky/${jobId}`;
    failuresLeft.set(path, 2);
    const life = lifecycle(jobId, 'flaky-user', receiver.url(path));
    for (const e of life.events) await appendOne(infra.store, jobId, e);

    await until('all delivered', async () => {
      const rows = await deliveries(jobId);
      return rows.length === 5 && rows.every((d) => d.status === 'delivered');
    });
    const seen = receivedFor(jobId).map((r) => [r.headers['webhook-id'], r.status]);
    expect(seen).toEqual([
      [webhookId(jobId, 1), 500],
      [webhookId(jobId, 1), 500],
      [webhookId(jobId, 1), 200],
      ...life.statusVersions.slice(1).map((v) => [webhookId(jobId, v), 200]),
    ]);
    const tries = await attempts(jobId);
    expect(tries.filter((a) => a.version === 1).map((a) => [a.attempt, a.outcome, a.http_status, a.error])).toEqual([
      [1, 'http_error', 500, 'HTTP 500'],
      [2, 'http_error', 500, 'HTTP 500'],
      [3, 'delivered', 200, null],
    ]);
    expect(tries).toHaveLength(7);
    expect(tries.every((a) => typeof a.duration_ms === 'number')).toBe(true);
    expect((await deliveries(jobId))[0]).toMatchObject({ version: 1, attempts: 3 });

    // The job's owner reads the same through the gateway, which asks notification over NATS.
    const ask = (userId: string) => request<WebhookDeliveriesReply>(infra.nc, commandSubjects(prefix).webhookDeliveries, { userId, jobId }, 5000);
    const reply = await ask('flaky-user');
    expect(reply.ok && reply.deliveries.data.map((d) => [d.version, d.status, d.attempts])).toEqual(life.statusVersions.map((v, i) => [v, 'delivered', i === 0 ? 3 : 1]));
    expect(reply.ok && reply.deliveries.data[0].attemptLog.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'http_error', 500],
      [2, 'http_error', 500],
      [3, 'delivered', 200],
    ]);
    expect(JobWebhookDeliveries.safeParse(reply.ok && reply.deliveries).success).toBe(true);
    expect(await ask('someone-else')).toEqual({ ok: true, deliveries: { object: 'list', data: [] } });
  });

  it('gives up after the attempt bound, then delivers the later status changes', async () => {
    const jobId = newTestJobId();
    const path = `/down/${jobId}`;
    failuresLeft.set(path, MAX_ATTEMPTS);
    const life = lifecycle(jobId, 'down-user', receiver.url(path));
    await appendOne(infra.store, jobId, life.events[0]);
    await until('queued failed', async () => (await deliveries(jobId))[0]?.status === 'failed');
    await appendOne(infra.store, jobId, life.events[1]);
    await until('validating delivered', async () => (await deliveries(jobId))[1]?.status === 'delivered');
    expect((await deliveries(jobId)).map((d) => [d.version, d.status, d.attempts])).toEqual([
      [1, 'failed', MAX_ATTEMPTS],
      [2, 'delivered', 1],
    ]);
    expect((await attempts(jobId)).filter((a) => a.version === 1).map((a) => a.outcome)).toEqual(Array(MAX_ATTEMPTS).fill('http_error'));
  });

  it.each([
    ['a large body', 'big'],
    ['a body that never ends', 'dribble'],
  ])('counts a 2xx answer with %s as delivered, at the first attempt', async (_name, kind) => {
    const { jobId } = await runJob(`${kind}-user`, `http://${oddHost}/${kind}/hook`, 2);
    await until('both settled', async () => {
      const rows = await deliveries(jobId);
      return rows.length === 2 && rows.every((d) => d.status !== 'pending') && rows;
    });
    expect((await deliveries(jobId)).map((d) => [d.version, d.status, d.attempts])).toEqual([
      [1, 'delivered', 1],
      [2, 'delivered', 1],
    ]);
  });

  it.each([
    { answer: 'a redirect (redirects are not followed)', path: 'moved', status: 301, error: 'refused: too_many_redirects (the receiver answered with a redirect, which is not followed: give its final URL)' },
    { answer: 'a 3xx the fetch does not take as a redirect (no Location), as api.md says of every 3xx', path: 'moved-nowhere', status: 302, error: 'refused: HTTP 302 (redirects are not followed)' },
  ])('gives up on a receiver that answers $answer at the first attempt, not after an hour of retries, recording its status', async ({ path, status, error }) => {
    const { jobId } = await runJob(`${path}-user`, `http://${oddHost}/${path}/hook`, 2);
    await until('both failed', async () => {
      const rows = await deliveries(jobId);
      return rows.length === 2 && rows.every((d) => d.status === 'failed');
    });
    expect(await deliveries(jobId)).toEqual([
      { version: 1, status: 'failed', attempts: 1, last_error: error },
      { version: 2, status: 'failed', attempts: 1, last_error: error },
    ]);
    // The receiver's own answer is shown, so the user sees a 3xx of theirs, not an address refused.
    expect((await attempts(jobId)).map((a) => [a.outcome, a.http_status])).toEqual([
      ['refused', status],
      ['refused', status],
    ]);
  });

  it('sends a signed test event to a URL on request, records nothing, and refuses a private address', async () => {
    const ask = (url: string) => request<WebhookTestReply>(infra.nc, commandSubjects(prefix).webhookTest, { userId: 'setting-up', url }, 5000);
    const reply = await ask(receiver.url('/test-send'));
    expect(reply).toMatchObject({ ok: true, result: { object: 'webhook_test', delivered: true, outcome: 'delivered', httpStatus: 200, error: null } });
    const got = receiver.received.filter((r) => r.path === '/test-send');
    expect(got).toHaveLength(1);
    expect(got[0].headers['webhook-id']).toBe(reply.ok && reply.result.webhookId);
    expect(verifyStandardWebhook(webhookSecretFor(MASTER, 'setting-up'), got[0].headers as Record<string, string>, got[0].body)).toBe(true);
    expect(JSON.parse(got[0].body)).toMatchObject({ type: 'video.job.test' });
    expect((await infra.dataSource.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE user_id = 'setting-up'`))[0].n).toBe(0);

    expect(await ask('http://10.1.2.3/hook')).toMatchObject({ ok: true, result: { delivered: false, outcome: 'refused', error: 'refused: private_address' } });
  });

  it("rotates a user's secret on request: webhooks are signed under the old one too until its time is up, then under the new one alone", async () => {
    const subjects = commandSubjects(prefix);
    const show = () => request<WebhookSecretReply>(infra.nc, subjects.webhookSecret, { userId: 'rotating' }, 5000);
    const rotate = (keepPreviousForSeconds: number) => request<WebhookSecretReply>(infra.nc, subjects.rotateWebhookSecret, { userId: 'rotating', keepPreviousForSeconds }, 5000);
    const sendTest = async (path: string) => {
      await request<WebhookTestReply>(infra.nc, subjects.webhookTest, { userId: 'rotating', url: receiver.url(path) }, 5000);
      const got = receiver.received.filter((r) => r.path === path);
      expect(got).toHaveLength(1);
      return (secret: string) => verifyStandardWebhook(secret, got[0].headers as Record<string, string>, got[0].body);
    };
    const original = webhookSecretFor(MASTER, 'rotating');
    expect(await show()).toEqual({ ok: true, secret: { secret: original, generation: 0, rotatedAt: null, previousSecretValidUntil: null } });

    const rotated = await rotate(3600);
    if (!rotated.ok) throw new Error('rotation refused');
    expect(rotated.secret).toMatchObject({ generation: 1, secret: webhookSecretFor(MASTER, 'rotating', 1) });
    expect(Date.parse(rotated.secret.previousSecretValidUntil!) - Date.parse(rotated.secret.rotatedAt!)).toBe(3_600_000);
    expect(rotated.secret.secret).not.toBe(original);
    expect(await show()).toEqual(rotated);
    const during = await sendTest('/rotating-during');
    expect([during(rotated.secret.secret), during(original)]).toEqual([true, true]);

    clockAhead = 3_601_000; // the hour is up
    try {
      const after = await sendTest('/rotating-after');
      expect([after(rotated.secret.secret), after(original)]).toEqual([true, false]);
      expect(await show()).toMatchObject({ secret: { generation: 1, previousSecretValidUntil: null } });
    } finally {
      clockAhead = 0;
    }

    // After a leak: the old secret ends at once. Other users' secrets are untouched.
    const leaked = await rotate(0);
    if (!leaked.ok) throw new Error('rotation refused');
    expect(leaked.secret).toMatchObject({ generation: 2, previousSecretValidUntil: null });
    const now = await sendTest('/rotating-leak');
    expect([now(leaked.secret.secret), now(rotated.secret.secret), now(original)]).toEqual([true, false, false]);
    expect(await request<WebhookSecretReply>(infra.nc, subjects.webhookSecret, { userId: 'someone-else' }, 5000)).toMatchObject({ ok: true, secret: { generation: 0, secret: webhookSecretFor(MASTER, 'someone-else') } });
  });

  it('keeps signing under the secret receivers hold when a rotation is made again within its window (a client retrying one whose answer it lost)', async () => {
    const subjects = commandSubjects(prefix);
    const rotate = () => request<WebhookSecretReply>(infra.nc, subjects.rotateWebhookSecret, { userId: 'rotating-twice', keepPreviousForSeconds: 3600 }, 5000);
    const sendTest = async (path: string) => {
      await request<WebhookTestReply>(infra.nc, subjects.webhookTest, { userId: 'rotating-twice', url: receiver.url(path) }, 5000);
      const got = receiver.received.filter((r) => r.path === path);
      return (generation: number) => verifyStandardWebhook(webhookSecretFor(MASTER, 'rotating-twice', generation), got[0].headers as Record<string, string>, got[0].body);
    };
    await rotate();
    await rotate();
    const twice = await sendTest('/rotating-twice');
    expect([0, 1, 2].map(twice)).toEqual([true, true, true]);
    await rotate();
    const thrice = await sendTest('/rotating-thrice');
    // At most three generations sign: the oldest drops out.
    expect([0, 1, 2, 3].map(thrice)).toEqual([false, true, true, true]);
  });

  it('refuses a webhook URL on a private address and records the refusal', async () => {
    const { jobId } = await runJob('ssrf-user', 'http://10.1.2.3/hook', 2);
    await until('both refused', async () => {
      const rows = await deliveries(jobId);
      return rows.length === 2 && rows.every((d) => d.status === 'failed');
    });
    expect(await deliveries(jobId)).toEqual([
      { version: 1, status: 'failed', attempts: 1, last_error: 'refused: private_address' },
      { version: 2, status: 'failed', attempts: 1, last_error: 'refused: private_address' },
    ]);
    expect((await attempts(jobId)).map((a) => [a.version, a.outcome, a.http_status])).toEqual([
      [1, 'refused', null],
      [2, 'refused', null],
    ]);
  });
});
