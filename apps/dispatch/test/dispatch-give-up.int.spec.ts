import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DispatchHarness, waitUntil, writeAsset } from './testing/dispatch-harness';

jest.setTimeout(60_000);

const RUNWAY = { model: 'gen4.5', provider: 'runway', durationSeconds: 5 };

/** An uploaded image whose description cannot be read (cut short by a full disk, say): every read of it throws. */
async function unreadableAsset(storageDir: string, assetId: string): Promise<string> {
  const meta = await writeAsset(storageDir, assetId);
  await writeFile(meta, '{"contentType": "image/p');
  return meta;
}

/**
 * A delivery of JobValidated that keeps throwing comes back about once a minute and is never
 * dead-lettered (dispatch waits by redelivery); without an end the job would stay validating with
 * its credits held. Runway takes an upload inline, so dispatch reads the image itself.
 */
describe('dispatch: a job whose dispatch keeps failing (real processes)', () => {
  const h = new DispatchHarness();
  let storageDir = '';

  beforeAll(async () => {
    await h.start();
    storageDir = await mkdtemp(join(tmpdir(), 'reelay-dispatch-give-up-'));
    await h.startDispatch({ PROVIDERS_ENABLED: 'runway', STORAGE_DIR: storageDir, DISPATCH_GIVE_UP_AFTER_ERRORS_MS: '2500', CIRCUIT_FAILURE_THRESHOLD: '0' });
  });
  afterAll(async () => {
    await h.close();
    await rm(storageDir, { recursive: true, force: true });
  });

  const submitted = async (jobId: string) => (await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));
  const streakOf = async (jobId: string): Promise<{ errors: number; last_error: string } | undefined> =>
    (await h.dataSource.query(`SELECT errors, last_error FROM dispatch_error_streaks WHERE job_id = $1`, [jobId]))[0];

  it('fails the job with unknown_provider_error once the errors have lasted DISPATCH_GIVE_UP_AFTER_ERRORS_MS, never sending it', async () => {
    const assetId = 'asset_unreadablereferenceimg1';
    await unreadableAsset(storageDir, assetId);
    const jobId = await h.createValidatedJob({ ...RUNWAY, prompt: 'a lighthouse, from a broken upload', assetId });
    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);

    expect(job.status).toBe('failed');
    expect(job.errorCode).toBe('unknown_provider_error');
    const failed = (await h.events(jobId)).find((e) => e.type === 'JobFailed')!;
    const detail = (failed.data as { detail: string }).detail;
    expect(detail).toMatch(/^dispatch failed \d+ times in a row over \d+ min; the last error: SyntaxError/);
    expect(Number(/failed (\d+) times/.exec(detail)![1])).toBeGreaterThanOrEqual(3);
    expect(failed.data).not.toHaveProperty('providerTaskMayExist');
    expect(await submitted(jobId)).toEqual([]);
    // The streak is forgotten with the job, and its slot freed.
    expect(await streakOf(jobId)).toBeUndefined();
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, 'the slot freed');
  });

  it('sends the job as usual once the error goes away before the limit', async () => {
    const assetId = 'asset_briefly0unreadable0img1';
    const meta = await unreadableAsset(storageDir, assetId);
    const jobId = await h.createValidatedJob({ ...RUNWAY, prompt: 'a lighthouse, from an upload repaired', assetId });
    await waitUntil(async () => ((await streakOf(jobId))?.errors ?? 0) >= 1, 10_000, 'a first error counted');
    expect((await streakOf(jobId))!.last_error).toContain('SyntaxError');
    // Repaired in one step (a rename), so no delivery can find the description missing.
    await writeFile(`${meta}.new`, JSON.stringify({ contentType: 'image/png', metadata: { userId: 'user-dispatch-test' } }));
    await rename(`${meta}.new`, meta);

    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);
    expect(job.status).toBe('running');
    expect((await submitted(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
  });
});

/**
 * A job given up with a try whose answer is unknown may have a task at the provider: its slot is
 * held (the slot sweep's hold), as for any such task. Seedance can be searched by our key here.
 */
describe('dispatch: giving up on a job after a try (real processes)', () => {
  const h = new DispatchHarness();
  let storageDir = '';
  const SEEDANCE = { model: 'seedance-1-0-pro', provider: 'seedance', durationSeconds: 5 };

  beforeAll(async () => {
    await h.start();
    storageDir = await mkdtemp(join(tmpdir(), 'reelay-dispatch-give-up-tried-'));
    await h.startDispatch({ PROVIDERS_ENABLED: 'seedance', SEEDANCE_CORRELATION: 'safety_identifier', STORAGE_DIR: storageDir, DISPATCH_GIVE_UP_AFTER_ERRORS_MS: '2500', CIRCUIT_FAILURE_THRESHOLD: '0' });
  });
  afterAll(async () => {
    await h.close();
    await rm(storageDir, { recursive: true, force: true });
  });

  const intended = (jobId: string, at: string) => ({ type: 'JobSubmissionIntended', data: { provider: 'seedance', attempt: 1, submissionKey: `${jobId}:1`, at } });

  it('after a try whose answer was lost: the job fails saying a task may exist, and its slot stays held', async () => {
    const assetId = 'asset_unreadableaftertry0001';
    await unreadableAsset(storageDir, assetId);
    const jobId = await h.createValidatedJob({ ...SEEDANCE, prompt: 'a harbour at night', assetId, then: (id, at) => [intended(id, at)] });
    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);

    expect(job).toMatchObject({ status: 'failed', errorCode: 'unknown_provider_error' });
    expect((await h.events(jobId)).find((e) => e.type === 'JobFailed')!.data).toMatchObject({ providerTaskMayExist: true });
    await h.waitHandled('dispatch-release-slots', 'JobFailed', 'the failure handled', jobId);
    expect((await h.slots()).some((s) => s.job_id === jobId)).toBe(true);
  });

  it('after a try the provider refused: no task can exist, so the slot is freed', async () => {
    const assetId = 'asset_unreadableafterrefusal1';
    await unreadableAsset(storageDir, assetId);
    const jobId = await h.createValidatedJob({
      ...SEEDANCE,
      prompt: 'a harbour at dawn',
      assetId,
      then: (id, at) => [intended(id, at), { type: 'JobSubmissionRetryScheduled', data: { provider: 'seedance', attempt: 1, reason: 'provider_error', retryAt: at, at } }],
    });
    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);

    expect(job).toMatchObject({ status: 'failed', errorCode: 'unknown_provider_error' });
    expect((await h.events(jobId)).find((e) => e.type === 'JobFailed')!.data).not.toHaveProperty('providerTaskMayExist');
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, 'the slot freed');
  });
});
