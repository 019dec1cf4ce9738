import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jobStreamId, type JobOutput } from '@reelay/contracts';
import { newJobId, type JobCommand } from '@reelay/job-domain';
import { createLogger } from '@reelay/service-kit';
import { LocalStorage, outputKey, posterKey } from '@reelay/storage';
import { decideOnJob } from '../shared/job-stream';
import { migratedPg, tempDir, type PgHarness } from '../testing/polling-harness';
import { ExpiredOutputsSweep } from './sweep-expired-outputs';
import { withExpiry } from './output-expiry';

const DAY = 86_400_000;
const RETENTION = 30 * DAY;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY);
const output = (jobId: string): JobOutput => ({ url: `/v1/jobs/${jobId}/content`, contentType: 'video/mp4', bytes: 2048, durationSeconds: 2, width: 640, height: 360, sha256: 'ab' });

let pg: PgHarness;
let dir: Awaited<ReturnType<typeof tempDir>>;
let storage: LocalStorage;

beforeAll(async () => {
  [pg, dir] = await Promise.all([migratedPg('retention'), tempDir('retention')]);
  storage = new LocalStorage(dir.path);
});
afterAll(async () => {
  await pg?.close();
  await dir?.remove();
});

/** A job taken up to `end` (its last step at `at`), and its output file last written at `fileAt`. */
async function jobWithFile(end: 'running' | 'succeeded' | 'failed' | 'none', at: Date, fileAt: Date, retentionMs: number | null = RETENTION): Promise<string> {
  const jobId = newJobId();
  const run = (cmd: JobCommand) => decideOnJob(pg.store, jobId, cmd, {});
  if (end !== 'none') {
    await run({
      type: 'SubmitJob',
      data: {
        jobId, userId: 'user_retention', model: 'gen4.5', provider: 'runway', prompt: 'a lantern', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5,
        resolution: null, seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 10, requestHash: `h-${jobId}`,
      },
      now: at,
    });
    await run({ type: 'StartValidation', now: at });
    await run({ type: 'CompleteValidation', referenceImage: null, now: at });
    await run({ type: 'RecordSubmissionIntent', provider: 'runway', attempt: 1, submissionKey: `${jobId}-1`, now: at });
    await run({ type: 'RecordProviderAccepted', provider: 'runway', providerTaskId: `task-${jobId}`, now: at });
    if (end === 'succeeded') await run({ type: 'Succeed', output: withExpiry(output(jobId), at, retentionMs), now: at });
    if (end === 'failed') await run({ type: 'Fail', errorCode: 'output_missing', detail: 'copy refused', now: at });
  }
  await storage.put(outputKey(jobId), Buffer.alloc(2048, 1));
  await utimes(join(dir.path, outputKey(jobId)), fileAt, fileAt);
  return jobId;
}

const fileExists = async (jobId: string) => (await readdir(join(dir.path, 'outputs'))).includes(`${jobId}.mp4`);
const posterExists = async (jobId: string) => (await readdir(join(dir.path, 'outputs'))).includes(`${jobId}.poster.webp`);
const deletions = async (jobId: string) => (await pg.store.readStream(jobStreamId(jobId))).filter((e) => e.type === 'JobOutputDeleted');

const logger = createLogger('retention-test', 'silent');
const sweepWith = (retentionMs: number | null, maxJobs?: number) => new ExpiredOutputsSweep({ store: pg.store, storage, outputRetentionMs: retentionMs, logger }, maxJobs);

describe('ExpiredOutputsSweep (PostgreSQL, files on disk)', () => {
  it('deletes what is past its expiry, keeps what is not, and clears files no succeeded job points at', async () => {
    const expired = await jobWithFile('succeeded', daysAgo(40), daysAgo(40));
    // Stored when the retention was 60 days: today's 30 do not shorten what the job was told.
    const promisedLonger = await jobWithFile('succeeded', daysAgo(40), daysAgo(40), 60 * DAY);
    // Stored while outputs were kept for good (no expiresAt): no retention set later reaches it.
    const storedForGood = await jobWithFile('succeeded', daysAgo(40), daysAgo(40), null);
    const young = await jobWithFile('succeeded', daysAgo(1), daysAgo(1));
    const ofFailedJob = await jobWithFile('failed', daysAgo(40), daysAgo(40));
    const ofNoJob = await jobWithFile('none', daysAgo(40), daysAgo(40));
    // A check copied it and is about to record the success: not the sweep's to touch.
    const stillRunning = await jobWithFile('running', daysAgo(40), daysAgo(40));
    // An earlier round recorded the deletion and died before removing the file.
    const halfDone = await jobWithFile('succeeded', daysAgo(40), daysAgo(40));
    await decideOnJob(pg.store, halfDone, { type: 'DeleteOutput', reason: 'retention', now: new Date() }, {});
    // Posters made from videos: they go with their video and stay while it does.
    for (const jobId of [expired, young]) await storage.put(posterKey(jobId), Buffer.from('RIFF....WEBP'));
    const tmp = join(dir.path, 'outputs', `${young}.mp4.1.2.3.tmp`);
    await writeFile(tmp, 'partial');
    await utimes(tmp, daysAgo(40), daysAgo(40));

    const sweep = sweepWith(RETENTION);
    expect(await sweep.round()).toEqual({ deleted: 2, orphansRemoved: 2, failed: 0, more: false });

    for (const gone of [expired, halfDone, ofFailedJob, ofNoJob]) expect(await fileExists(gone)).toBe(false);
    for (const kept of [promisedLonger, storedForGood, young, stillRunning]) expect(await fileExists(kept)).toBe(true);
    expect([await posterExists(expired), await posterExists(young)]).toEqual([false, true]);
    for (const deleted of [expired, halfDone]) expect(await deletions(deleted)).toHaveLength(1);
    for (const other of [promisedLonger, storedForGood, young, ofFailedJob, stillRunning]) expect(await deletions(other)).toHaveLength(0);
    expect((await deletions(expired))[0]!.data).toMatchObject({ reason: 'retention' });
    // Temporary files are the abandoned-copy sweep's.
    expect((await readdir(join(dir.path, 'outputs'))).some((n) => n.endsWith('.tmp'))).toBe(true);

    expect(await sweep.round()).toEqual({ deleted: 0, orphansRemoved: 0, failed: 0, more: false });
  });

  it('handles a bounded number of files per round and says when more are due; a file that fails holds up no other', async () => {
    const expired = await Promise.all([1, 2, 3].map(() => jobWithFile('succeeded', daysAgo(40), daysAgo(40))));
    // A job stream that cannot be read: its one event is of a type this release does not know.
    const broken = newJobId();
    await pg.ds.query(`INSERT INTO streams (stream_id, version) VALUES ($1, 1)`, [jobStreamId(broken)]);
    await pg.ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ($1, 1, gen_random_uuid(), 'JobFromTheFuture', 1, '{}')`, [jobStreamId(broken)]);
    await storage.put(outputKey(broken), Buffer.alloc(2048, 1));
    await utimes(join(dir.path, outputKey(broken)), daysAgo(40), daysAgo(40));

    const sweep = sweepWith(RETENTION, 2);
    const rounds = [];
    for (let i = 0; i < 5; i++) {
      const r = await sweep.round();
      rounds.push(r);
      if (!r.more) break;
    }
    expect(rounds.at(-1)!.more).toBe(false);
    expect(rounds.reduce((n, r) => n + r.deleted, 0)).toBe(3);
    expect(rounds.reduce((n, r) => n + r.failed, 0)).toBe(1);
    expect(await fileExists(broken)).toBe(true);
    for (const jobId of expired) expect(await fileExists(jobId)).toBe(false);
    expect(rounds.slice(0, -1).every((r) => r.more)).toBe(true);
  });

  it('goes on with the walk a round cut short, so a backlog is walked once, not once per round', async () => {
    const expired = await Promise.all([1, 2, 3, 4, 5].map(() => jobWithFile('succeeded', daysAgo(40), daysAgo(40))));
    const walks = jest.spyOn(storage, 'listOlderThan');
    try {
      const sweep = sweepWith(RETENTION, 2);
      let rounds = 0;
      while ((await sweep.round()).more && rounds < 20) rounds++;
      for (const jobId of expired) expect(await fileExists(jobId)).toBe(false);
      expect(walks).toHaveBeenCalledTimes(1);
    } finally {
      walks.mockRestore();
    }
  });

  it('with outputs kept for good, keeps every output and removes only the files no succeeded job points at, once an hour old', async () => {
    const old = await jobWithFile('succeeded', daysAgo(400), daysAgo(400));
    // A copy that landed after its job was canceled (or failed), its own removal cut short by a crash.
    const lateCopy = await jobWithFile('failed', new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000), null);
    const justLanded = await jobWithFile('failed', new Date(), new Date(), null);
    // A copy that landed after its owner deleted the video.
    const deletedByOwner = await jobWithFile('succeeded', daysAgo(3), daysAgo(3), null);
    await decideOnJob(pg.store, deletedByOwner, { type: 'DeleteOutput', reason: 'user', now: new Date() }, {});
    const stillRunning = await jobWithFile('running', daysAgo(3), daysAgo(3), null);

    // (The file of the unreadable job stream made above is still there: it counts as failed.)
    expect(await sweepWith(null).round()).toMatchObject({ deleted: 0, orphansRemoved: 2, more: false });
    expect({ old: await fileExists(old), lateCopy: await fileExists(lateCopy), justLanded: await fileExists(justLanded), deletedByOwner: await fileExists(deletedByOwner), stillRunning: await fileExists(stillRunning) })
      .toEqual({ old: true, lateCopy: false, justLanded: true, deletedByOwner: false, stillRunning: true });
    expect(await deletions(old)).toEqual([]);
    expect(await sweepWith(RETENTION).round()).toMatchObject({ deleted: 1 });
  });

  it('remembers the outputs a whole walk kept, so the next round reads no job again', async () => {
    const kept = await Promise.all([1, 2, 3].map(() => jobWithFile('succeeded', daysAgo(3), daysAgo(3), null)));
    const sweep = sweepWith(null);
    const reads = jest.spyOn(pg.store, 'readStream');
    const keptRead = () => reads.mock.calls.map(([streamId]) => streamId).filter((id) => kept.some((jobId) => id === jobStreamId(jobId)));
    try {
      expect(await sweep.round()).toMatchObject({ more: false });
      expect(new Set(keptRead()).size).toBe(3);
      reads.mockClear();
      expect(await sweep.round()).toMatchObject({ deleted: 0, more: false });
      expect(keptRead()).toEqual([]);
    } finally {
      reads.mockRestore();
    }
  });

  it('removes a poster left without its video once it is an hour old, and keeps one beside its video', async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    const withVideo = await jobWithFile('succeeded', twoHoursAgo, twoHoursAgo, null);
    const lone = newJobId();
    for (const jobId of [withVideo, lone]) {
      await storage.put(posterKey(jobId), Buffer.from('RIFF....WEBP'));
      await utimes(join(dir.path, posterKey(jobId)), twoHoursAgo, twoHoursAgo);
    }
    const sweep = sweepWith(null);
    expect(await sweep.round()).toMatchObject({ orphansRemoved: 1 });
    expect([await posterExists(withVideo), await posterExists(lone), await fileExists(withVideo)]).toEqual([true, false, true]);
    // A second round finds nothing more to remove.
    expect(await sweep.round()).toMatchObject({ orphansRemoved: 0 });
  });
});
