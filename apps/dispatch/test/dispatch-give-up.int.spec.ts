import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DispatchHarness, PNG_1x1, waitUntil, writeAsset } from './testing/dispatch-harness';

jest.setTimeout(60_000);

const RUNWAY = { model: 'gen4.5', provider: 'runway', durationSeconds: 5 };

/** An uploaded image whose bytes cannot be read (a directory where the file should be): every read throws EISDIR. */
async function unreadableAsset(storageDir: string, assetId: string): Promise<string> {
  await writeAsset(storageDir, assetId);
  const path = join(storageDir, 'assets', assetId);
  await rm(path);
  await mkdir(path);
  return path;
}

/**
 * A delivery of JobValidated that keeps throwing comes back about once a minute and is never
 * dead-lettered (dispatch waits by redelivery); without an end the job would stay validating with
 * its credits held. Runway takes an upload inline, so dispatch reads the image's bytes itself.
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
    expect(detail).toMatch(/^dispatch failed \d+ times in a row over \d+ min; the last error: .*EISDIR/);
    expect(Number(/failed (\d+) times/.exec(detail)![1])).toBeGreaterThanOrEqual(3);
    expect(failed.data).not.toHaveProperty('providerTaskMayExist');
    expect(await submitted(jobId)).toEqual([]);
    // The streak is forgotten with the job, and its slot freed.
    expect(await streakOf(jobId)).toBeUndefined();
    await waitUntil(async () => !(await h.slots()).some((s) => s.job_id === jobId), 10_000, 'the slot freed');
  });

  it('sends the job as usual once the error goes away before the limit', async () => {
    const assetId = 'asset_briefly0unreadable0img1';
    const path = await unreadableAsset(storageDir, assetId);
    const jobId = await h.createValidatedJob({ ...RUNWAY, prompt: 'a lighthouse, from an upload repaired', assetId });
    await waitUntil(async () => ((await streakOf(jobId))?.errors ?? 0) >= 1, 10_000, 'a first error counted');
    expect((await streakOf(jobId))!.last_error).toContain('EISDIR');
    await rm(path, { recursive: true });
    await writeFile(path, PNG_1x1);

    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);
    expect(job.status).toBe('running');
    expect((await submitted(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
  });
});
