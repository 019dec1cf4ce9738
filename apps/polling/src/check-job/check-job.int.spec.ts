import { jobStreamId } from '@reelay/contracts';
import { EventStore } from '@reelay/event-store';
import { rebuildJobView } from '@reelay/read-models';
import { outputKey } from '@reelay/storage';
import { ProviderError, type ProviderAdapter } from '@reelay/providers';
import type { ServiceProcess } from '@reelay/testing';
import { followJob } from '../follow-job/follow-job.handler';
import { followUnfollowed } from '../follow-job/follow-sweep';
import type { PollingDeps } from '../polling.deps';
import type { ScheduledCheck } from '../schedule/poll-schedule.repository';
import type { SchedulePolicy } from '../schedule/schedule-policy';
import { decideOnJob } from '../shared/job-stream';
import { acceptedJob, finished, migratedPg, pollingDeps, simAdapters, startSim, statusesOf, tempDir, waitForJob, type PgHarness } from '../testing/polling-harness';
import { cancelAtProvider } from '../cancel-at-provider/cancel-at-provider.handler';
import { checkJob } from './check-job.handler';

const policy: SchedulePolicy = { offsetsMs: [0, 60_000], delayedIntervalMs: 60_000, deadlineMs: 3_600_000, errorRetryMs: 1000 };

/** Single checks run by hand (no ticker), watching what they read and write. */
describe('checkJob against PostgreSQL and provider-sim', () => {
  let pg: PgHarness;
  let sim: ServiceProcess;
  let storage: Awaited<ReturnType<typeof tempDir>>;
  let adapters: Map<string, ProviderAdapter>;
  let deps: PollingDeps;

  beforeAll(async () => {
    [pg, sim, storage] = await Promise.all([migratedPg('check_job'), startSim(), tempDir('check-job-storage')]);
    adapters = simAdapters(sim);
    deps = pollingDeps(pg, adapters, storage.path, {}, policy);
  });

  afterAll(async () => {
    await sim?.kill();
    await pg?.close();
    await storage?.remove();
  });

  afterEach(() => jest.restoreAllMocks());

  const followed = async (provider: string, prompt: string, cancelAfterSeconds?: number) => {
    const job = await acceptedJob(pg.store, adapters.get(provider)!, prompt, {}, { cancelAfterSeconds });
    await followJob(deps, { jobId: job.jobId, provider, providerTaskId: job.taskId, at: job.acceptedAt }, { correlationId: `corr-${job.jobId}` });
    return job;
  };
  const claim = async (jobId: string): Promise<ScheduledCheck> => {
    await pg.ds.query(`UPDATE poll_schedule SET next_check_at = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    const claims = await pg.schedule.claimDue(100, 60_000);
    const mine = claims.find((c) => c.jobId === jobId);
    if (!mine) throw new Error(`${jobId} not claimed`);
    return mine;
  };
  const row = async (jobId: string) =>
    ((await pg.ds.query(`SELECT checks_done, progress, delayed_marked, lease_token FROM poll_schedule WHERE job_id = $1`, [jobId])) as Record<string, unknown>[])[0];
  const watchStream = () => ({ reads: jest.spyOn(pg.store, 'readStream'), appends: jest.spyOn(pg.store, 'append') });

  it('a check that finds the task still running with nothing new reads and writes no event, only the schedule row', async () => {
    const { jobId } = await followed('seedance', 'a fox [sim:never_finish]');
    const stream = watchStream();
    expect(await checkJob(deps, await claim(jobId))).toBe('unfinished');
    expect(stream.reads).not.toHaveBeenCalled();
    expect(stream.appends).not.toHaveBeenCalled();
    expect(await row(jobId)).toEqual({ checks_done: 1, progress: null, delayed_marked: false, lease_token: null });
  });

  it('writes progress once it moved, and JobDelayed once at the check that uses up the offsets', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:never_finish,progress]');
    await checkJob(deps, await claim(jobId));
    expect(await row(jobId)).toMatchObject({ checks_done: 1, progress: 50, delayed_marked: false });
    // Brought forward (as a callback would), before the last offset: no offset used up, not delayed.
    expect(await checkJob(deps, await claim(jobId))).toBe('unfinished');
    expect(await row(jobId)).toMatchObject({ checks_done: 1, progress: 67, delayed_marked: false });
    // Once the last offset (60 s after acceptance) has passed.
    await pg.ds.query(`UPDATE poll_schedule SET accepted_at = accepted_at - interval '61 seconds' WHERE job_id = $1`, [jobId]);
    expect(await checkJob(deps, await claim(jobId))).toBe('unfinished');
    expect(await row(jobId)).toMatchObject({ checks_done: 2, progress: 75, delayed_marked: true });
    expect((await statusesOf(pg.store, jobId)).slice(-5)).toEqual(['JobProviderAccepted', 'JobProgressed', 'JobProgressed', 'JobProgressed', 'JobDelayed']);

    // The row says 99 % was recorded already: the next check (80 %) leaves the stream alone.
    await pg.ds.query(`UPDATE poll_schedule SET progress = 99 WHERE job_id = $1`, [jobId]);
    const stream = watchStream();
    await checkJob(deps, await claim(jobId));
    expect(stream.reads).not.toHaveBeenCalled();
    expect(stream.appends).not.toHaveBeenCalled();
    expect(await row(jobId)).toMatchObject({ checks_done: 3, progress: 99, delayed_marked: true });
  });

  it('a check whose lease was lost leaves the row to the new holder', async () => {
    const { jobId } = await followed('seedance', 'a fox [sim:never_finish]');
    const stale = await claim(jobId);
    await pg.ds.query(`UPDATE poll_schedule SET lease_token = gen_random_uuid() WHERE job_id = $1`, [jobId]);
    const newHolder = (await row(jobId))!.lease_token;
    expect(await checkJob(deps, stale)).toBe('unfinished');
    expect(await row(jobId)).toEqual({ checks_done: 0, progress: null, delayed_marked: false, lease_token: newHolder });
  });

  it('a job canceled meanwhile refuses the check\'s write; its row stays, draining, for the task still running at the provider', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:never_finish,progress]');
    await checkJob(deps, await claim(jobId));
    await decideOnJob(pg.store, jobId, { type: 'Cancel', now: new Date() }, {});
    expect(await checkJob(deps, await claim(jobId))).toBe('stale');
    expect(await row(jobId)).toMatchObject({ lease_token: null });
    expect((await pg.ds.query(`SELECT draining FROM poll_schedule WHERE job_id = $1`, [jobId]))[0]).toEqual({ draining: true });
    expect((await statusesOf(pg.store, jobId)).at(-1)).toBe('JobCanceled');
  });

  it('a row claimed again after the lease of the check that ended its job lapsed (the terminal event not handled yet) is settled from the log, the provider not asked', async () => {
    const lapse = (jobId: string) => pg.ds.query(`UPDATE poll_schedule SET lease_until = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
    await lapse(jobId);
    const asked = jest.spyOn(adapters.get('runway')!, 'check');
    const again = await claim(jobId);
    expect(again.reclaimed).toBe(true);
    expect(await checkJob(deps, again)).toBe('stale');
    expect(asked).not.toHaveBeenCalled();
    expect(await row(jobId)).toBeUndefined();

    // Canceled (as at its deadline) while its task still runs: the row becomes a draining one.
    const canceled = await followed('runway', 'a fox [sim:never_finish]');
    expect(await checkJob(deps, await claim(canceled.jobId))).toBe('unfinished');
    await decideOnJob(pg.store, canceled.jobId, { type: 'Cancel', now: new Date() }, {});
    await pg.ds.query(`UPDATE poll_schedule SET lease_token = gen_random_uuid() WHERE job_id = $1`, [canceled.jobId]);
    await lapse(canceled.jobId);
    asked.mockClear();
    expect(await checkJob(deps, await claim(canceled.jobId))).toBe('stale');
    expect(asked).not.toHaveBeenCalled();
    expect((await pg.ds.query(`SELECT draining, lease_token FROM poll_schedule WHERE job_id = $1`, [canceled.jobId]))[0]).toEqual({ draining: true, lease_token: null });
  });

  it('a job given up at the provider deadline with its task still running says the task may still run there, so its capacity slot is held', async () => {
    const { jobId } = await followed('seedance', 'a fox [sim:never_finish]');
    await pg.ds.query(`UPDATE poll_schedule SET deadline_at = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    expect(await checkJob(deps, await claim(jobId))).toBe('failed');
    const failed = (await pg.store.readStream(jobStreamId(jobId))).at(-1)!;
    expect(failed).toMatchObject({ type: 'JobFailed', data: { errorCode: 'provider_timeout', providerTaskMayExist: true } });
  });

  it('a check that finds the output ready copies it and appends JobSucceeded on the state folded at the follow, reading no stream', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    const stream = watchStream();
    expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
    expect(stream.reads).not.toHaveBeenCalled();
    expect(stream.appends).toHaveBeenCalledTimes(1);
    expect((await statusesOf(pg.store, jobId)).at(-1)).toBe('JobSucceeded');
  });

  describe("the job's own deadline (cancelAfterSeconds)", () => {
    const scheduleOf = async (jobId: string) =>
      ((await pg.ds.query(`SELECT cancel_at, next_check_at FROM poll_schedule WHERE job_id = $1`, [jobId])) as { cancel_at: Date | null; next_check_at: Date }[])[0];
    const pastDeadline = async (jobId: string) => {
      const { cancel_at } = await scheduleOf(jobId);
      await new Promise((r) => setTimeout(r, Math.max(0, cancel_at!.getTime() - Date.now() + 50)));
    };

    it('plans a check at the deadline, and that check cancels a job the provider has not finished, saying why', async () => {
      const { jobId } = await followed('seedance', 'a fox [sim:never_finish]', 2);
      const submitted = (await pg.store.readStream(jobStreamId(jobId)))[0];
      const { cancel_at } = await scheduleOf(jobId);
      expect(cancel_at?.getTime()).toBe(Date.parse((submitted.data as { at: string }).at) + 2000);
      // The next offset is a minute away: the check is planned at the deadline instead.
      expect(await checkJob(deps, await claim(jobId))).toBe('unfinished');
      expect((await scheduleOf(jobId)).next_check_at.getTime()).toBe(cancel_at!.getTime());

      await pastDeadline(jobId);
      expect(await checkJob(deps, await claim(jobId))).toBe('canceled');
      expect((await statusesOf(pg.store, jobId)).at(-1)).toBe('JobCanceled');
      expect((await pg.store.readStream(jobStreamId(jobId))).at(-1)?.data).toMatchObject({ reason: 'deadline' });
    });

    it('plans the first check at the deadline when that comes before the first offset', async () => {
      const job = await acceptedJob(pg.store, adapters.get('seedance')!, 'a fox [sim:never_finish]', {}, { cancelAfterSeconds: 2 });
      const slow = { ...deps, policyFor: () => ({ ...policy, offsetsMs: [60_000, 120_000] }) };
      await followJob(slow, { jobId: job.jobId, provider: 'seedance', providerTaskId: job.taskId, at: job.acceptedAt }, { correlationId: `corr-${job.jobId}` });
      const { cancel_at, next_check_at } = await scheduleOf(job.jobId);
      expect(next_check_at.getTime()).toBe(cancel_at!.getTime());
    });

    it('keeps a video the provider finished by the check at the deadline: the job succeeds', async () => {
      const { jobId } = await followed('runway', 'a fox [sim:success_after=1]', 1);
      await pastDeadline(jobId);
      expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
      expect((await statusesOf(pg.store, jobId)).at(-1)).toBe('JobSucceeded');
    });

    it('a copy that keeps failing after the provider finished fails the job as output_missing before the unasked cancel past the deadline would say it was not ready', async () => {
      const { jobId } = await followed('runway', 'a fox [sim:success_after=1]', 60);
      // Its deadline passed 14 minutes ago: intake may cancel it unasked at 15 (DEADLINE_CHECK_GRACE_MS).
      await pg.ds.query(`UPDATE poll_schedule SET cancel_at = now() - interval '14 minutes' WHERE job_id = $1`, [jobId]);
      jest.spyOn(deps.storage, 'put').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      expect(await checkJob(deps, await claim(jobId))).toBe('failed');
      const failed = (await pg.store.readStream(jobStreamId(jobId))).at(-1)!;
      expect(failed).toMatchObject({ type: 'JobFailed', data: { errorCode: 'output_missing' } });
      // The operator reads why in the job's detail, not only in a warn log.
      expect((failed.data as { detail: string }).detail).toMatch(/could not be copied in time; the last try: .*ENOSPC: no space left on device/);
    });

    it('a check that could not be made before the deadline is tried again at it, not past it, and one past it does not give the job up unasked', async () => {
      const { jobId } = await followed('seedance', 'a fox [sim:never_finish]', 2);
      const { cancel_at } = await scheduleOf(jobId);
      jest.spyOn(adapters.get('seedance')!, 'check').mockRejectedValueOnce(new Error('socket hang up'));
      expect(await checkJob(deps, await claim(jobId))).toBe('retry');
      expect((await scheduleOf(jobId)).next_check_at.getTime()).toBeLessThanOrEqual(cancel_at!.getTime());
      await pastDeadline(jobId);
      jest.spyOn(adapters.get('seedance')!, 'check').mockRejectedValueOnce(new Error('socket hang up'));
      expect(await checkJob(deps, await claim(jobId))).toBe('retry');
      expect((await statusesOf(pg.store, jobId)).at(-1)).not.toBe('JobCanceled');
    });
  });

  it('a job canceled by another process meanwhile: the write on the cached state conflicts, and the fresh state refuses it', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    await decideOnJob(new EventStore(pg.ds), jobId, { type: 'Cancel', now: new Date() }, {});
    const stream = watchStream();
    expect(await checkJob(deps, await claim(jobId))).toBe('stale');
    expect(stream.reads).toHaveBeenCalled();
    // The provider said the task is done: that is recorded (freeing its slot) and the job no longer followed.
    expect(await row(jobId)).toBeUndefined();
    expect((await statusesOf(pg.store, jobId)).slice(-3)).toEqual(['JobProviderAccepted', 'JobCanceled', 'JobProviderTaskEnded']);
    // The output was copied before the write was refused; nothing will ever serve it.
    expect(await deps.storage.stat(outputKey(jobId))).toBeNull();
  });

  it('a check retried after its copy could not be recorded succeeds with the copy, though the provider has purged the task since', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    // The first check copies the output, and its JobSucceeded does not get written (the database went away).
    const append = jest.spyOn(pg.store, 'append').mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    await expect(checkJob(deps, await claim(jobId))).rejects.toThrow('Connection terminated');
    append.mockRestore();
    expect((await deps.storage.stat(outputKey(jobId)))?.bytes).toBeGreaterThan(0);
    // By the retry, the provider has dropped the task (as Replicate does with API outputs after about an hour).
    jest.spyOn(adapters.get('runway')!, 'check').mockResolvedValueOnce({ state: 'failed', providerStatus: 'FAILED', error: { kind: 'not_found', detail: 'task not found', retryable: false } });
    await pg.ds.query(`UPDATE poll_schedule SET lease_until = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
    const events = await pg.store.readStream(jobStreamId(jobId));
    expect(events.map((e) => e.type)).not.toContain('JobFailed');
    expect(events.at(-1)).toMatchObject({ type: 'JobSucceeded', data: { output: { bytes: (await deps.storage.stat(outputKey(jobId)))!.bytes } } });
  });

  it.each([
    ['answers that the task is not found (purged)', { state: 'failed', providerStatus: 'FAILED', error: { kind: 'not_found', detail: 'task not found', retryable: false } }],
    ['refuses the status check for good', new Error('replaced below')],
    ['answers that the task was canceled', { state: 'canceled', providerStatus: 'CANCELLED' }],
  ] as const)('a finished task whose copy failed, when the provider then %s: output_missing, not a failed generation', async (_what, answer) => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    const copies = async (outcome: string) =>
      (await deps.metrics.shared.providerCalls.get()).values
        .filter((v) => v.metricName?.endsWith('_count') && v.labels.provider === 'runway' && v.labels.operation === 'fetch_output' && v.labels.outcome === outcome)
        .reduce((n, v) => n + v.value, 0);
    const [failedBefore, okBefore] = [await copies('copy_failed'), await copies('ok')];
    const put = jest.spyOn(deps.storage, 'put').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    expect(await checkJob(deps, await claim(jobId))).toBe('retry');
    put.mockRestore();
    // The failed copy is counted as one, not as a successful call.
    expect([await copies('copy_failed'), await copies('ok')]).toEqual([failedBefore + 1, okBefore]);
    const check = jest.spyOn(adapters.get('runway')!, 'check');
    if (answer instanceof Error) check.mockRejectedValueOnce(new ProviderError('not_found', 'Task not found', { retryable: false, httpStatus: 404 }));
    else check.mockResolvedValueOnce(answer as never);
    expect(await checkJob(deps, await claim(jobId))).toBe('failed');
    const failed = (await pg.store.readStream(jobStreamId(jobId))).at(-1)!;
    expect(failed).toMatchObject({ type: 'JobFailed', data: { errorCode: 'output_missing' } });
    expect((failed.data as { detail: string }).detail).toContain('could not be copied, and the provider no longer gives it');
  });

  it("a user's cancel while the copy of a finished task is retried does not ask the provider to cancel it: the task's end is recorded as finished there", async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    jest.spyOn(deps.storage, 'put').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    expect(await checkJob(deps, await claim(jobId))).toBe('retry');
    await decideOnJob(new EventStore(pg.ds), jobId, { type: 'Cancel', now: new Date() }, {});
    // Runway's cancel is a DELETE of the task, its finished video with it.
    const cancel = jest.spyOn(adapters.get('runway')!, 'cancel');
    await cancelAtProvider(deps, jobId, {});
    expect(cancel).not.toHaveBeenCalled();
    expect((await pg.store.readStream(jobStreamId(jobId))).at(-1)).toMatchObject({ type: 'JobProviderTaskEnded', data: { reason: 'finished_at_provider' } });
    expect(await row(jobId)).toBeUndefined();
  });

  it('a job that succeeded by another check meanwhile keeps the output that check recorded', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    const first = await claim(jobId);
    await pg.ds.query(`UPDATE poll_schedule SET lease_until = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    const second = await claim(jobId);
    expect(await checkJob(deps, second)).toBe('succeeded');
    expect(await checkJob(deps, first)).toBe('stale');
    expect((await deps.storage.stat(outputKey(jobId)))?.bytes).toBeGreaterThan(0);
  });

  it('a check that copies late, after the video another check recorded was deleted, does not bring the file back', async () => {
    const { jobId } = await followed('runway', 'a fox [sim:success_after=1]');
    const first = await claim(jobId);
    await pg.ds.query(`UPDATE poll_schedule SET lease_until = now() - interval '1 ms' WHERE job_id = $1`, [jobId]);
    expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
    await decideOnJob(pg.store, jobId, { type: 'DeleteOutput', reason: 'user', now: new Date() }, {});
    await deps.storage.remove(outputKey(jobId)); // what polling's consumer of the deletion does
    expect(await checkJob(deps, first)).toBe('stale');
    expect(await deps.storage.stat(outputKey(jobId))).toBeNull();
  });

  // A job whose JobProviderAccepted delivery never made it to polling (dead-lettered after an
  // outage of hours): running in the log and in the job list, with no schedule row.
  /** The gateway's job list, rebuilt from the log until it shows what the log says (the log reader may lag behind open transactions). */
  const jobListShows = async (jobIds: string[], status: string) => {
    const until = Date.now() + 20_000;
    for (;;) {
      await rebuildJobView(pg.store);
      const rows: { status: string }[] = await pg.ds.query(`SELECT status FROM job_view WHERE job_id = ANY($1)`, [jobIds]);
      if (rows.length === jobIds.length && rows.every((r) => r.status === status)) return;
      if (Date.now() > until) throw new Error(`job list does not show ${jobIds.join(', ')} as ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('the follow sweep follows a running job that has no schedule row, from its logged acceptance, and the job then finishes', async () => {
    const { jobId, taskId } = await acceptedJob(pg.store, adapters.get('runway')!, 'a fox [sim:success_after=1]');
    await jobListShows([jobId], 'running');
    expect(await pg.schedule.find(jobId)).toBeNull();

    expect(await followUnfollowed(deps, 0)).toEqual([jobId]);
    expect(await pg.schedule.find(jobId)).toMatchObject({ provider: 'runway', providerTaskId: taskId });
    // Once on the schedule, nothing more to find; a second sweep (another replica) adds nothing.
    expect(await followUnfollowed(deps, 0)).toEqual([]);

    expect(await checkJob(deps, await claim(jobId))).toBe('succeeded');
    expect((await waitForJob(pg.store, jobId, finished)).status).toBe('succeeded');
  });

  it('the follow sweep leaves alone a job that ended since the job list saw it running, and one that is too recent', async () => {
    const ended = await acceptedJob(pg.store, adapters.get('runway')!, 'a fox [sim:never_finish]');
    const recent = await acceptedJob(pg.store, adapters.get('runway')!, 'a fox [sim:never_finish]');
    await jobListShows([ended.jobId, recent.jobId], 'running');
    await decideOnJob(pg.store, ended.jobId, { type: 'Cancel', now: new Date() }, {});

    expect(await followUnfollowed(deps, 60_000)).toEqual([]);
    expect(await followUnfollowed(deps, 0)).toEqual([recent.jobId]);
    expect(await pg.schedule.find(ended.jobId)).toBeNull();
  });
});
