import { jobStreamId } from '@reelay/contracts';
import { createDataSource, EventStore, runMigrations } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { createJobViewProjection, projectJobView, rebuildJobView } from './job-view-projection';

let db: TestDatabase;
let ds: DataSource;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('jobview');
  ds = createDataSource(db.url);
  await ds.initialize();
  await runMigrations(ds);
  store = new EventStore(ds);
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const at = () => new Date().toISOString();
const submitted = (jobId: string, userId: string) => ({
  type: 'JobSubmitted',
  data: {
    jobId, userId, model: 'local-preview', provider: 'local', prompt: `p ${jobId}`, negativePrompt: null, aspectRatio: '16:9', durationSeconds: 2,
    resolution: null, seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 2, requestHash: 'h', at: at(),
  },
});

const rows = async () => ds.query('SELECT job_id, user_id, status, message, error_code, progress, version, job FROM job_view ORDER BY job_id');

/**
 * The log reader only sees transactions older than the oldest one still open on the whole server,
 * and other suites hold transactions open on purpose: run the projection until it has applied
 * everything (never skipping), rather than assuming one pass sees every commit.
 */
async function runUntil(run: () => Promise<unknown>, done: () => Promise<boolean>) {
  const deadline = Date.now() + 20_000;
  do {
    await run();
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
}
const allCurrent = async () => {
  const r = await rows();
  return r.length === 12 && r.filter((x: { status: string }) => x.status === 'failed').length === 3;
};

describe('job_view projection', () => {
  it('keeps one row per job current, and a rebuild from scratch equals the live table', async () => {
    const runner = createJobViewProjection(store);
    for (let i = 0; i < 12; i++) {
      const jobId = `job_01JTEST${String(i).padStart(18, '0')}`;
      await store.append(jobStreamId(jobId), 0, [submitted(jobId, `user${i % 3}`)]);
      if (i % 2 === 0) await store.append(jobStreamId(jobId), 1, [{ type: 'JobValidationStarted', data: { at: at() } }]);
      if (i % 4 === 0) await store.append(jobStreamId(jobId), 2, [{ type: 'JobFailed', data: { errorCode: 'moderation_rejected', message: null, detail: 'rule', at: at() } }]);
      if (i % 3 === 0) await runner.runOnce();
    }
    await runUntil(() => runner.runOnce(), allCurrent);
    const live = await rows();
    expect(live).toHaveLength(12);
    expect(live.filter((r: { status: string }) => r.status === 'failed')).toHaveLength(3);
    expect(live.find((r: { status: string }) => r.status === 'failed')).toMatchObject({
      error_code: 'moderation_rejected',
      message: 'This request could not be processed. Try changing the prompt or assets.',
      version: 3,
    });
    expect(JSON.stringify(live)).not.toContain('rule');

    await rebuildJobView(store);
    await runUntil(() => runner.runOnce(), allCurrent);
    expect(await rows()).toEqual(live);
  });

  it('folds a batch onto the state it folded at the batch before, and reads a stream only when the batch does not continue it', async () => {
    const jobId = 'job_01JTESTCACHE0000000000000';
    await store.append(jobStreamId(jobId), 0, [submitted(jobId, 'carol')]);
    await store.append(jobStreamId(jobId), 1, [{ type: 'JobValidationStarted', data: { at: at() } }]);
    await store.append(jobStreamId(jobId), 2, [{ type: 'JobFailed', data: { errorCode: 'moderation_rejected', message: null, detail: 'rule', at: at() } }]);
    const [v1, v2, v3] = await store.readStream(jobStreamId(jobId));
    const tx = ds.createQueryRunner();
    await tx.connect();
    try {
      // Given a gateway that has projected nothing yet (its own store, so its own cache)
      const cold = new EventStore(ds);
      const reads = jest.spyOn(cold, 'readStreams');
      // When batches bring the stream's events one after the other, none is read again
      await projectJobView(cold, [v1!], tx);
      await projectJobView(cold, [v2!], tx);
      const last = await projectJobView(cold, [v3!], tx);
      expect(reads).not.toHaveBeenCalled();
      // and the row is the one a fold of the whole stream gives
      const whole = await projectJobView(new EventStore(ds), [v3!], tx);
      expect(last).toEqual(whole);
      expect(last?.params.slice(2, 5)).toEqual(['failed', 'This request could not be processed. Try changing the prompt or assets.', 'moderation_rejected']);

      // When a batch skips a version its state has not seen (another replica led meanwhile), the stream is read
      const behind = new EventStore(ds);
      const behindReads = jest.spyOn(behind, 'readStreams');
      await projectJobView(behind, [v1!], tx);
      expect(await projectJobView(behind, [v3!], tx)).toEqual(whole);
      expect(behindReads).toHaveBeenCalledTimes(1);
      // and a batch that repeats versions already folded (a retried batch) is read too
      expect(await projectJobView(behind, [v2!, v3!], tx)).toEqual(whole);
      expect(behindReads).toHaveBeenCalledTimes(2);
    } finally {
      await tx.release();
    }
  });
});
