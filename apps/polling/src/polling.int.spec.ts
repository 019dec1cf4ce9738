import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandSubjects } from '@reelay/contracts';
import { request, type NatsConnection } from '@reelay/messaging';
import type { ProviderAdapter } from '@reelay/providers';
import { EventStore } from '@reelay/event-store';
import { outputKey } from '@reelay/storage';
import { uniqueNatsPrefix, type ServiceProcess } from '@reelay/testing';
import { cancelAtProvider } from './cancel-at-provider/cancel-at-provider.handler';
import { followJob } from './follow-job/follow-job.handler';
import type { PollingDeps } from './polling.deps';
import { PollingEventsController } from './polling.controller';
import { ProviderCallbackServer } from './provider-callback/callback-server';
import { PollTicker } from './schedule/poll-ticker';
import type { SchedulePolicy } from './schedule/schedule-policy';
import { decideOnJob, loadJob } from './shared/job-stream';
import {
  acceptedJob, eventually, finished, hasStatus, migratedPg, natsFor, pollingDeps, simAdapters, simTask, startSim, sleep, statusesOf, tempDir, waitForJob,
  type PgHarness,
} from './testing/polling-harness';

const fast: SchedulePolicy = { offsetsMs: [30, 60, 90], delayedIntervalMs: 40, deadlineMs: 10_000, errorRetryMs: 30 };
const shortDeadline: SchedulePolicy = { ...fast, deadlineMs: 600 };

describe('polling against PostgreSQL, NATS and provider-sim', () => {
  let pg: PgHarness;
  let sim: ServiceProcess;
  let storage: Awaited<ReturnType<typeof tempDir>>;
  let adapters: Map<string, ProviderAdapter>;
  let deps: PollingDeps;
  let ticker: PollTicker;
  let nc: NatsConnection;
  let callbacks: ProviderCallbackServer;
  const prefix = uniqueNatsPrefix('poll');

  /**
   * The check that ends a job leaves its row leased; the terminal event, delivered to the
   * polling-stop consumer, removes it. Here the event is handed to the controller directly.
   */
  const deliverTerminalEvent = async (jobId: string) => {
    const [row] = (await pg.ds.query(`SELECT lease_until > now() AS held FROM poll_schedule WHERE job_id = $1`, [jobId])) as { held: boolean }[];
    expect(row).toEqual({ held: true });
    const last = (await pg.store.readStream(`job-${jobId}`)).at(-1)!;
    const controller = new PollingEventsController(deps);
    await (last.type === 'JobSucceeded' ? controller.onSucceeded(last) : controller.onFailed(last));
    expect(await pg.schedule.find(jobId)).toBeNull();
  };

  const follow = async (provider: string, prompt: string) => {
    const job = await acceptedJob(pg.store, adapters.get(provider)!, prompt);
    await followJob(deps, { jobId: job.jobId, provider, providerTaskId: job.taskId, at: job.acceptedAt }, { correlationId: `corr-${job.jobId}` });
    return job;
  };

  beforeAll(async () => {
    [pg, sim, storage, nc] = await Promise.all([migratedPg('polling'), startSim(), tempDir('polling-storage'), natsFor('polling-int')]);
    adapters = simAdapters(sim);
    deps = pollingDeps(pg, adapters, storage.path, { luma: shortDeadline, runway: shortDeadline }, fast);
    ticker = new PollTicker(deps, { tickMs: 10, concurrency: 8, leaseMs: 10_000 });
    ticker.start();
    callbacks = new ProviderCallbackServer(deps, { nc, prefix });
    callbacks.onModuleInit();
  });

  afterAll(async () => {
    await ticker?.stop();
    await callbacks?.beforeApplicationShutdown();
    await nc?.close();
    await sim?.kill();
    await pg?.close();
    await storage?.remove();
  });

  it('records progress, copies the MP4 into storage and succeeds with probed values', async () => {
    const { jobId } = await follow('openai', 'a fox [sim:success_after=4]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect(job.status).toBe('succeeded');
    const events = await pg.store.readStream(`job-${jobId}`);
    expect(events.filter((e) => e.type === 'JobProgressed').map((e) => (e.data as { progress: number }).progress)).toEqual([25, 50, 75]);
    const file = await readFile(join(storage.path, outputKey(jobId)));
    expect(job.output).toEqual({
      url: `/v1/jobs/${jobId}/content`,
      contentType: 'video/mp4',
      bytes: file.length,
      durationSeconds: 2,
      width: 320,
      height: 180,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    await deliverTerminalEvent(jobId);
  });

  it('marks a job delayed after the last scheduled check and fails it with provider_timeout at the deadline', async () => {
    const { jobId } = await follow('luma', 'a fox [sim:never_finish]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect(job.status).toBe('failed');
    expect(job.errorCode).toBe('provider_timeout');
    const types = await statusesOf(pg.store, jobId);
    expect(types.indexOf('JobDelayed')).toBeGreaterThan(types.indexOf('JobProviderAccepted'));
    expect(types.at(-1)).toBe('JobFailed');
    await deliverTerminalEvent(jobId);
  });

  it('keeps copying the output of a job the provider finished past its deadline, when the download fails for a while', async () => {
    // Luma's deadline here is 600 ms; its first 40 downloads answer 503 (30 ms apart), well past it.
    const { jobId } = await follow('luma', 'a fox [sim:success_after=1,output_server_error=40]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect([job.status, job.errorCode]).toEqual(['succeeded', null]);
  });

  it('lets a delayed job still succeed', async () => {
    const { jobId } = await follow('seedance', 'a fox [sim:success_after=5]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect(job.status).toBe('succeeded');
    const types = await statusesOf(pg.store, jobId);
    expect(types.slice(-2)).toEqual(['JobDelayed', 'JobSucceeded']);
  });

  it('fails with output_missing when the output link has expired', async () => {
    const { jobId } = await follow('seedance', 'a fox [sim:success_after=1,expire_output]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect([job.status, job.errorCode]).toEqual(['failed', 'output_missing']);
  });

  it('fails with moderation_rejected when the provider moderates the output', async () => {
    const { jobId } = await follow('seedance', 'a fox [sim:success_after=2,moderation_after]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect([job.status, job.errorCode]).toEqual(['failed', 'moderation_rejected']);
  });

  it('checks again after 429 and 5xx answers to a check instead of failing the job', async () => {
    const limited = await follow('seedance', 'a fox [sim:success_after=1,check_rate_limit=2,retry_after=0]');
    const broken = await follow('seedance', 'a fox [sim:success_after=1,check_server_error=2,server_status=503]');
    for (const { jobId } of [limited, broken]) {
      expect((await waitForJob(pg.store, jobId, finished)).status).toBe('succeeded');
    }
  });

  it('checks again after a check refused for our account (401, a key being rotated) instead of failing the job', async () => {
    const { jobId } = await follow('seedance', 'a fox [sim:success_after=1,check_server_error=2,server_status=401]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect([job.status, job.errorCode]).toEqual(['succeeded', null]);
  });

  it('takes a status word the adapter does not know as running, counts it, and still finishes the job', async () => {
    const before = (await deps.metrics.unrecognizedStatuses.get()).values.find((v) => v.labels.provider === 'seedance')?.value ?? 0;
    const { jobId } = await follow('seedance', 'a fox [sim:success_after=4,unknown_status=2]');
    expect((await waitForJob(pg.store, jobId, finished)).status).toBe('succeeded');
    const after = (await deps.metrics.unrecognizedStatuses.get()).values.find((v) => v.labels.provider === 'seedance')?.value ?? 0;
    expect(after - before).toBe(2);
  });

  it('checks at once when a verified callback names a followed task, and ignores anything else', async () => {
    const adapter = adapters.get('seedance')!;
    const job = await acceptedJob(pg.store, adapter, 'a fox [sim:success_after=1]');
    // Planned far in the future: only the callback can make it happen now.
    await pg.schedule.follow({
      jobId: job.jobId, provider: 'seedance', providerTaskId: job.taskId, acceptedAt: new Date(job.acceptedAt),
      deadlineAt: new Date(Date.now() + 3_600_000), firstCheckAt: new Date(Date.now() + 3_600_000), metadata: {},
    });
    const subject = commandSubjects(prefix).providerCallback;
    const body = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

    expect(await request(nc, subject, { provider: 'seedance', headers: {}, bodyBase64: body({ id: 'cgt-unknown', status: 'succeeded' }) }, 5000)).toEqual({ ok: true, ignored: true });
    expect(await request(nc, subject, { provider: 'nope', headers: {}, bodyBase64: body({ id: job.taskId }) }, 5000)).toEqual({ ok: true, ignored: true });
    expect(await request(nc, subject, { garbage: true }, 5000)).toEqual({ ok: true, ignored: true });
    expect((await pg.schedule.find(job.jobId))?.checksDone).toBe(0);

    expect(await request(nc, subject, { provider: 'seedance', headers: { 'content-type': 'application/json' }, bodyBase64: body({ id: job.taskId, status: 'succeeded' }) }, 5000)).toEqual({ ok: true });
    expect((await waitForJob(pg.store, job.jobId, finished)).status).toBe('succeeded');
  });

  it('matches a signed fal webhook, which names only the request id, to the task it follows', async () => {
    const hooks: { headers: Record<string, string | string[] | undefined>; body: Buffer; query: string }[] = [];
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        hooks.push({ headers: req.headers, body: Buffer.concat(chunks), query: (req.url ?? '').split('?')[1] ?? '' });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    try {
      const fal = adapters.get('fal')!;
      await fal.prepare!(); // what polling's main does at startup: the signing keys
      const callbackUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/providers/fal/callback`;
      const job = await acceptedJob(pg.store, fal, 'a fox [sim:success_after=1]', { callbackUrl });
      await pg.schedule.follow({
        jobId: job.jobId, provider: 'fal', providerTaskId: job.taskId, acceptedAt: new Date(job.acceptedAt),
        deadlineAt: new Date(Date.now() + 3_600_000), firstCheckAt: new Date(Date.now() + 3_600_000), metadata: {},
      });
      for (let i = 0; hooks.length === 0; i++) {
        if (i > 200) throw new Error('fal sent no webhook');
        await sleep(25);
      }
      const [hook] = hooks;
      expect(JSON.parse(hook.body.toString()).request_id).toBe(job.taskId.split('/').at(-1));
      // Forwarded as the gateway does: headers, raw body and the URL's query string.
      const cmd = { provider: 'fal', headers: hook.headers, bodyBase64: hook.body.toString('base64'), query: hook.query };
      expect(await request(nc, commandSubjects(prefix).providerCallback, cmd, 5000)).toEqual({ ok: true });
      expect((await waitForJob(pg.store, job.jobId, finished)).status).toBe('succeeded');
    } finally {
      await new Promise((r) => sink.close(r));
    }
  });

  it('on cancel asks the provider to cancel the task and stops following the job', async () => {
    const { jobId, taskId } = await follow('seedance', 'a fox [sim:queue=1000]');
    await waitForJob(pg.store, jobId, hasStatus('running'));
    await decideOnJob(pg.store, jobId, { type: 'Cancel', now: new Date() }, {});
    await cancelAtProvider(deps, jobId, {});
    expect((await simTask(sim, 'seedance', taskId))?.phase).toBe('canceled');
    expect(await pg.schedule.find(jobId)).toBeNull();
    expect((await waitForJob(pg.store, jobId, finished)).status).toBe('canceled');
    const ended = (await pg.store.readStream(`job-${jobId}`)).filter((e) => e.type === 'JobProviderTaskEnded');
    expect(ended.map((e) => (e.data as { reason: string }).reason)).toEqual(['canceled_at_provider']);
  });

  it('removes an output a crashed check copied when the job is then canceled or fails, and leaves a succeeded one', async () => {
    const controller = new PollingEventsController(deps);
    const copied = async (jobId: string) => {
      await deps.storage.put(outputKey(jobId), Buffer.from('a copy whose check died before recording it'));
      expect(await deps.storage.stat(outputKey(jobId))).not.toBeNull();
    };
    const canceled = await follow('seedance', 'a fox [sim:queue=1000]');
    await copied(canceled.jobId);
    await decideOnJob(pg.store, canceled.jobId, { type: 'Cancel', now: new Date() }, {});
    await controller.onCanceled((await pg.store.readStream(`job-${canceled.jobId}`)).at(-1)!);
    expect(await deps.storage.stat(outputKey(canceled.jobId))).toBeNull();

    const failed = await follow('seedance', 'a fox [sim:queue=1000]');
    await copied(failed.jobId);
    await decideOnJob(pg.store, failed.jobId, { type: 'Fail', errorCode: 'output_missing', message: 'gone', now: new Date() }, {});
    const last = (await pg.store.readStream(`job-${failed.jobId}`)).at(-1)!;
    expect(last.type).toBe('JobFailed');
    await controller.onFailed(last);
    expect(await deps.storage.stat(outputKey(failed.jobId))).toBeNull();

    // A removal that fails is not acked away: the event's delivery fails, so JetStream delivers it again.
    const again = await follow('seedance', 'a fox [sim:queue=1000]');
    await copied(again.jobId);
    await decideOnJob(pg.store, again.jobId, { type: 'Cancel', now: new Date() }, {});
    const failingStorage = Object.assign(Object.create(deps.storage), { remove: () => Promise.reject(new Error('EIO: i/o error')) });
    const canceledEvent = (await pg.store.readStream(`job-${again.jobId}`)).at(-1)!;
    await expect(new PollingEventsController({ ...deps, storage: failingStorage }).onCanceled(canceledEvent)).rejects.toThrow('EIO');
    await controller.onCanceled(canceledEvent);
    expect(await deps.storage.stat(outputKey(again.jobId))).toBeNull();

    const done = await follow('runway', 'a bay [sim:success_after=1]');
    await waitForJob(pg.store, done.jobId, finished);
    await deliverTerminalEvent(done.jobId);
    expect((await deps.storage.stat(outputKey(done.jobId)))?.bytes).toBeGreaterThan(0);
  });

  describe('a canceled job whose task the provider goes on with', () => {
    const taskEnds = async (jobId: string) =>
      (await pg.store.readStream(`job-${jobId}`)).filter((e) => e.type === 'JobProviderTaskEnded').map((e) => (e.data as { reason: string }).reason);
    // Canceled by another process (intake, through the gateway): polling's cached state of the job does not know.
    const cancel = (jobId: string) => decideOnJob(new EventStore(pg.ds), jobId, { type: 'Cancel', now: new Date() }, {});

    it('is checked, without copying anything, until the task ends (no cancel call: Kling)', async () => {
      const ends = async () => (await deps.metrics.canceledTasksEnded.get()).values.find((v) => v.labels.provider === 'kling' && v.labels.reason === 'finished_at_provider')?.value ?? 0;
      const endsBefore = await ends();
      const { jobId, taskId } = await follow('kling', 'a fox [sim:success_after=6]');
      await waitForJob(pg.store, jobId, hasStatus('running'));
      await cancel(jobId);
      await cancelAtProvider(deps, jobId, {});
      // The task is still generating there; its row stays so it is checked until it ends.
      expect(await pg.schedule.find(jobId)).not.toBeNull();
      await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded');
      expect(await taskEnds(jobId)).toEqual(['finished_at_provider']);
      expect((await simTask(sim, 'kling', taskId.split('/').at(-1)!))?.phase).toBe('succeeded');
      // The row goes right after the end is recorded (a step of its own).
      await eventually(async () => (await pg.schedule.find(jobId)) === null, 'the row removed');
      const statuses = await statusesOf(pg.store, jobId);
      expect(statuses).not.toContain('JobSucceeded');
      expect(statuses.at(-1)).toBe('JobProviderTaskEnded');
      await expect(deps.storage.stat(outputKey(jobId))).resolves.toBeNull();
      expect((await ends()) - endsBefore).toBe(1);
    });

    it('is checked until the task ends when the provider refuses the cancel (Ark: running tasks)', async () => {
      const { jobId, taskId } = await follow('seedance', 'a fox [sim:success_after=6]');
      await eventually(async () => ((await simTask(sim, 'seedance', taskId))?.phase ?? '') === 'running', 'the task running');
      await cancel(jobId);
      await cancelAtProvider(deps, jobId, {});
      await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded');
      expect(await taskEnds(jobId)).toEqual(['finished_at_provider']);
      expect((await simTask(sim, 'seedance', taskId))?.phase).toBe('succeeded');
    });

    // fal answers a cancel of a running request with CANCELLATION_REQUESTED: nothing is certain yet, so the task is checked until it ends.
    it.each([
      ['runs on: its end is recorded as the task finishing there', 'a fox [sim:success_after=6]', 'finished_at_provider', 'succeeded'],
      ['honors the signal: its end is recorded as stopped by the provider', 'a fox [sim:success_after=6,honor_cancel]', 'canceled_at_provider', 'canceled'],
    ])('is checked until the task ends when fal passes the cancel on to a running request, whose app %s', async (_, prompt, reason, phase) => {
      const { jobId, taskId } = await follow('fal', prompt);
      const falTask = async () => simTask(sim, 'fal', taskId.split('/').at(-1)!);
      await eventually(async () => ((await falTask())?.phase ?? '') === 'running', 'the request running');
      await cancel(jobId);
      await cancelAtProvider(deps, jobId, {});
      expect(await taskEnds(jobId)).toEqual([]);
      expect(await pg.schedule.find(jobId)).not.toBeNull();
      await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded');
      expect(await taskEnds(jobId)).toEqual([reason]);
      expect((await falTask())?.phase).toBe(phase);
    });

    it('is given up on at the job deadline when the task never ends', async () => {
      const { jobId } = await follow('luma', 'a fox [sim:never_finish]');
      await waitForJob(pg.store, jobId, hasStatus('running'));
      await cancel(jobId);
      await cancelAtProvider(deps, jobId, {});
      await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded');
      expect(await taskEnds(jobId)).toEqual(['deadline_passed']);
      // The row goes right after the end is recorded (a step of its own).
      await eventually(async () => (await pg.schedule.find(jobId)) === null, 'the row removed');
    });

    describe('started by a submit that raced the cancel (JobProviderAcceptedAfterCancel)', () => {
      const acceptedAfterCancel = async (provider: string, prompt: string) => {
        const job = await acceptedJob(pg.store, adapters.get(provider)!, prompt, {}, { canceledDuringSubmit: true });
        expect(await statusesOf(pg.store, job.jobId)).toEqual(expect.arrayContaining(['JobCanceled', 'JobProviderAcceptedAfterCancel']));
        await new PollingEventsController(deps).onAcceptedAfterCancel((await pg.store.readStream(`job-${job.jobId}`)).at(-1)!);
        return job;
      };

      it('is stopped at a provider that can cancel it, and its end recorded at once', async () => {
        const { jobId, taskId } = await acceptedAfterCancel('seedance', 'a fox [sim:queue=1000]');
        expect((await simTask(sim, 'seedance', taskId))?.phase).toBe('canceled');
        expect(await taskEnds(jobId)).toEqual(['canceled_at_provider']);
        expect(await pg.schedule.find(jobId)).toBeNull();
      });

      it("JobCanceled's handler, having read the log before the late acceptance, leaves the drain row that acceptance set up", async () => {
        const { jobId, taskId } = await acceptedAfterCancel('kling', 'a fox [sim:never_finish]');
        expect(await pg.schedule.find(jobId)).not.toBeNull();
        // The JobCanceled delivery read the stream just before JobProviderAcceptedAfterCancel was committed.
        const beforeAcceptance = (await pg.store.readStream(`job-${jobId}`)).filter((e) => e.type !== 'JobProviderAcceptedAfterCancel');
        const read = jest.spyOn(deps.store, 'readStream').mockResolvedValueOnce(beforeAcceptance);
        await cancelAtProvider(deps, jobId, {}).finally(() => read.mockRestore());
        expect(await pg.schedule.find(jobId)).toMatchObject({ providerTaskId: taskId });
      });

      it('is checked until it ends where the provider has no cancel call (Kling)', async () => {
        const { jobId, taskId } = await acceptedAfterCancel('kling', 'a fox [sim:success_after=3]');
        expect(await pg.schedule.find(jobId)).not.toBeNull();
        await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded');
        expect(await taskEnds(jobId)).toEqual(['finished_at_provider']);
        expect((await simTask(sim, 'kling', taskId.split('/').at(-1)!))?.phase).toBe('succeeded');
        expect((await loadJob(pg.store, jobId)).status).toBe('canceled');
        await expect(deps.storage.stat(outputKey(jobId))).resolves.toBeNull();
      });
    });

    it('a check that finds the job canceled under it keeps following the task (before the cancel is delivered)', async () => {
      // Each status answer takes 400 ms, so the cancel lands while a check is running; it then writes progress and is refused.
      const { jobId, taskId } = await follow('openai', 'a fox [sim:success_after=8,slow=400]');
      await eventually(async () => ((await pg.ds.query(`SELECT lease_token FROM poll_schedule WHERE job_id = $1 AND lease_token IS NOT NULL`, [jobId])) as unknown[]).length > 0, 'a check running');
      await cancel(jobId);
      await eventually(async () => (await taskEnds(jobId)).length > 0, 'the task end recorded', 20_000);
      expect((await simTask(sim, 'openai', taskId))?.phase).toBe('succeeded');
      expect(await statusesOf(pg.store, jobId)).not.toContain('JobSucceeded');
    });
  });

  it('asks the provider to stop a task that timed out, where it can, and stops following the job', async () => {
    const { jobId, taskId } = await follow('runway', 'a fox [sim:never_finish]');
    const job = await waitForJob(pg.store, jobId, finished);
    expect([job.status, job.errorCode]).toEqual(['failed', 'provider_timeout']);
    expect((await simTask(sim, 'runway', taskId))?.phase).not.toBe('canceled');
    await deliverTerminalEvent(jobId);
    expect((await simTask(sim, 'runway', taskId))?.phase).toBe('canceled');
  });

  it('two replicas share the schedule and finish every job once', async () => {
    const second = new PollTicker(deps, { tickMs: 10, concurrency: 4, leaseMs: 10_000 });
    second.start();
    try {
      const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => follow('seedance', `fox ${i} [sim:success_after=${2 + (i % 3)}]`)));
      for (const { jobId } of jobs) {
        expect((await waitForJob(pg.store, jobId, finished)).status).toBe('succeeded');
        expect((await statusesOf(pg.store, jobId)).filter((t) => t === 'JobSucceeded')).toHaveLength(1);
      }
    } finally {
      await second.stop();
    }
  });
  it('keeps the claim of a check that runs longer than its lease (renewed while it runs)', async () => {
    await ticker.stop();
    const short = new PollTicker(deps, { tickMs: 10, concurrency: 4, leaseMs: 300 });
    short.start();
    try {
      // Each status answer takes 1.2 s: four lease periods.
      const { jobId } = await follow('seedance', 'a fox [sim:success_after=1,slow=1200]');
      const token = async () => ((await pg.ds.query(`SELECT lease_token FROM poll_schedule WHERE job_id = $1`, [jobId])) as { lease_token: string | null }[])[0]?.lease_token;
      await sleep(150);
      const first = await token();
      expect(first).toEqual(expect.any(String));
      await sleep(700);
      // Past two lease periods the row is still held under the first claim: no replica (this one
      // included) took the job again and checked it a second time at once.
      expect(await token()).toBe(first);
      expect((await pg.schedule.claimDue(100, 10_000)).map((c) => c.jobId)).not.toContain(jobId);
      expect((await waitForJob(pg.store, jobId, finished, 15_000)).status).toBe('succeeded');
      expect((await statusesOf(pg.store, jobId)).filter((t) => t === 'JobSucceeded')).toHaveLength(1);
    } finally {
      await short.stop();
      ticker.start();
    }
  });

  it('with a tick far away, a follow due now and a callback are checked at once (the schedule wakes the ticker)', async () => {
    await ticker.stop();
    const slow = new PollTicker(deps, { tickMs: 120_000, concurrency: 4, leaseMs: 10_000 });
    slow.start(); // its first round runs now; the next tick is two minutes away
    try {
      await new Promise((r) => setTimeout(r, 200));
      const adapter = adapters.get('seedance')!;
      const due = await acceptedJob(pg.store, adapter, 'a fox [sim:success_after=1]');
      await pg.schedule.follow({
        jobId: due.jobId, provider: 'seedance', providerTaskId: due.taskId, acceptedAt: new Date(due.acceptedAt),
        deadlineAt: new Date(Date.now() + 3_600_000), firstCheckAt: new Date(), metadata: {},
      });
      expect((await waitForJob(pg.store, due.jobId, finished, 10_000)).status).toBe('succeeded');

      const later = await acceptedJob(pg.store, adapter, 'a fox [sim:success_after=1]');
      await pg.schedule.follow({
        jobId: later.jobId, provider: 'seedance', providerTaskId: later.taskId, acceptedAt: new Date(later.acceptedAt),
        deadlineAt: new Date(Date.now() + 3_600_000), firstCheckAt: new Date(Date.now() + 3_600_000), metadata: {},
      });
      const body = Buffer.from(JSON.stringify({ id: later.taskId, status: 'succeeded' })).toString('base64');
      expect(await request(nc, commandSubjects(prefix).providerCallback, { provider: 'seedance', headers: { 'content-type': 'application/json' }, bodyBase64: body }, 5000)).toEqual({ ok: true });
      expect((await waitForJob(pg.store, later.jobId, finished, 10_000)).status).toBe('succeeded');
    } finally {
      await slow.stop();
      ticker.start();
    }
  });
});
