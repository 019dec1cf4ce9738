import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, EventStore } from '@reelay/event-store';
import { createAdapters } from '@reelay/providers';
import { outputKey } from '@reelay/storage';
import { assertExitedAsAsked, createTestDatabase, startService, TEST_NATS_URL, uniqueNatsPrefix, type ServiceProcess, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { PollScheduleRepository } from './schedule/poll-schedule.repository';
import { decideOnJob } from './shared/job-stream';
import { commandSubjects } from '@reelay/contracts';
import { request } from '@reelay/messaging';
import { acceptedJob, dropEventStream, eventually, simTask, finished, natsFor, sleep, startSim, statusesOf, tempDir, waitForJob } from './testing/polling-harness';

jest.setTimeout(90_000);

/**
 * Polling as a real process (apps/polling/dist: `npx nx run @reelay/polling:build` first), killed
 * with SIGKILL while jobs are mid-schedule, some with a check in flight; a fresh process must
 * finish every job from the schedule rows alone.
 */
describe('polling killed mid-schedule (kill -9) and restarted', () => {
  let db: TestDatabase;
  let sim: ServiceProcess;
  let storage: Awaited<ReturnType<typeof tempDir>>;
  let ds: DataSource | undefined;
  let live: ServiceProcess | undefined;
  const running: ServiceProcess[] = [];
  const prefix = uniqueNatsPrefix('pollcrash');

  beforeAll(async () => {
    [db, sim, storage] = await Promise.all([createTestDatabase('polling_crash'), startSim(), tempDir('polling-crash')]);
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    await sim?.kill();
    await ds?.destroy();
    const nc = await natsFor('polling-crash-cleanup');
    await dropEventStream(nc, prefix);
    await nc.close();
    await db?.drop();
    await storage?.remove();
    assertExitedAsAsked([...running, ...(sim ? [sim] : [])]);
  });

  const env = () => ({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    NATS_PREFIX: prefix,
    PROVIDER_SIM_URL: sim.url,
    PROVIDERS_ENABLED: 'seedance',
    STORAGE_DIR: storage.path,
    POLL_SCHEDULE_MS: '100,200,300,400',
    POLL_DELAYED_INTERVAL_MS: '200',
    POLL_DEADLINE_MS: '60000',
    POLL_ERROR_RETRY_MS: '100',
    POLL_LEASE_MS: '1500',
    POLL_TICK_MS: '50',
    DB_POOL_SIZE: '4',
    LOG_LEVEL: 'warn',
  });

  const startPolling = async () => {
    const p = await startService('polling', env());
    running.push(p);
    await p.ready(30_000);
    return p;
  };

  it('finishes every job after a SIGKILL', async () => {
    const first = await startPolling();
    ds = await createDataSource(db.url, { poolSize: 4 }).initialize();
    const store = new EventStore(ds);
    const schedule = new PollScheduleRepository(ds);
    const adapter = createAdapters({ PROVIDER_SIM_URL: sim.url, PROVIDERS_ENABLED: 'seedance' }).get('seedance')!;

    // Accepted jobs reach polling the real way: log → relay → JetStream → polling-follow.
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => acceptedJob(store, adapter, `crash ${i} [sim:success_after=${10 + (i % 3)}${i % 2 ? ',slow=250' : ''}]`)),
    );
    const ids = jobs.map((j) => j.jobId);
    const rows = async () => (await ds!.query(`SELECT job_id, checks_done, lease_until FROM poll_schedule WHERE job_id = ANY($1)`, [ids])) as { checks_done: number }[];
    for (let deadline = Date.now() + 20_000; ; await sleep(25)) {
      const r = await rows();
      if (r.length === ids.length && r.every((x) => x.checks_done >= 1)) break;
      if (Date.now() > deadline) throw new Error(`jobs never got scheduled and checked:\n${first.output()}`);
    }

    await first.kill('SIGKILL');
    const unfinishedAtKill = [];
    for (const id of ids) if (!finished(await waitForJob(store, id, () => true))) unfinishedAtKill.push(id);
    expect(unfinishedAtKill.length).toBeGreaterThan(0);
    expect((await rows()).length).toBe(unfinishedAtKill.length);

    // What a copy cut off by a kill leaves behind (aged past the sweep's bound), beside one in flight.
    const abandoned = join(storage.path, 'outputs', 'job_cut.mp4.4242.1.1.tmp');
    const inFlight = join(storage.path, 'outputs', 'job_live.mp4.4243.1.1.tmp');
    mkdirSync(join(storage.path, 'outputs'), { recursive: true });
    for (const file of [abandoned, inFlight]) writeFileSync(file, 'partial copy');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(abandoned, anHourAgo, anHourAgo);

    const second = (live = await startPolling());
    await eventually(async () => !existsSync(abandoned), 'abandoned copy swept at start');
    expect(existsSync(inFlight)).toBe(true);
    for (const id of ids) {
      const job = await waitForJob(store, id, finished, 45_000);
      expect(job.status).toBe('succeeded');
      expect((await statusesOf(store, id)).filter((t) => t === 'JobSucceeded')).toHaveLength(1);
      expect(existsSync(join(storage.path, outputKey(id)))).toBe(true);
      // The row goes right after the terminal event is appended.
      await eventually(async () => (await schedule.find(id)) === null, `schedule row of ${id} removed`);
    }
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/reelay_poll_scheduled_jobs\{[^}]*\} 0/);
    expect(metrics).toMatch(/reelay_poll_check_lateness_seconds_count\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/reelay_poll_check_seconds_count\{[^}]*outcome="succeeded"[^}]*\} [1-9]/);
  });

  it('serves forwarded callbacks and cancels at the provider through the bus (restarted process)', async () => {
    if (!live || !ds) throw new Error('needs the restarted process of the previous test');
    const store = new EventStore(ds);
    const schedule = new PollScheduleRepository(ds);
    const adapter = createAdapters({ PROVIDER_SIM_URL: sim.url, PROVIDERS_ENABLED: 'seedance' }).get('seedance')!;
    const nc = await natsFor('polling-crash-bus');
    try {
      const held = await acceptedJob(store, adapter, 'held [sim:queue=100000]');
      await eventually(async () => (await schedule.find(held.jobId)) !== null, 'held job scheduled');

      // Cancel: JobCanceled → polling-stop consumer → provider cancel → row removed.
      await cancel(store, held.jobId);
      await eventually(async () => (await simTask(sim, 'seedance', held.taskId))?.phase === 'canceled', 'provider task canceled');
      await eventually(async () => (await schedule.find(held.jobId)) === null, 'canceled job no longer followed');

      // Callback in the gateway's shape: the check it triggers happens now, not on the schedule.
      const quick = await acceptedJob(store, adapter, 'quick [sim:success_after=1]');
      await eventually(async () => (await schedule.find(quick.jobId)) !== null, 'quick job scheduled');
      await ds.query(`UPDATE poll_schedule SET next_check_at = now() + interval '1 hour' WHERE job_id = $1`, [quick.jobId]);
      const reply = await request(nc, commandSubjects(prefix).providerCallback, {
        provider: 'seedance',
        headers: { 'content-type': 'application/json' },
        bodyBase64: Buffer.from(JSON.stringify({ id: quick.taskId, status: 'succeeded' })).toString('base64'),
        query: '',
        receivedAt: new Date().toISOString(),
        correlationId: 'corr-callback',
      }, 5000);
      expect(reply).toEqual({ ok: true });
      expect((await waitForJob(store, quick.jobId, finished, 10_000)).status).toBe('succeeded');

      // A graceful stop finishes what it holds and exits cleanly.
      expect(await live.kill('SIGTERM')).toBe(0);
    } finally {
      await nc.close();
    }
  });
});

async function cancel(store: EventStore, jobId: string) {
  await decideOnJob(store, jobId, { type: 'Cancel', now: new Date() }, { correlationId: 'corr-cancel' });
}
