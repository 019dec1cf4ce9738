import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newJobId } from '@reelay/job-domain';
import { FfmpegFailedError } from '@reelay/providers';
import { createLogger, createMetrics } from '@reelay/service-kit';
import { LocalStorage, outputKey, posterKey, type BlobStorage } from '@reelay/storage';
import type { GatewayDeps } from '../gateway-deps';
import { videoJobEvents } from '../job-content/video-job.fixture';
import { PosterMaker, type ExtractPoster } from './poster-maker';
import { createPosterMetrics, type PosterMetrics } from './poster-metrics';

const still = Buffer.from('RIFF\0\0\0\0WEBPVP8 still');

let dir: string;
let storage: LocalStorage;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'poster-maker-'));
  storage = new LocalStorage(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let metrics: PosterMetrics;
beforeEach(() => {
  metrics = createPosterMetrics(createMetrics('gateway'));
});
const counted = async () => Object.fromEntries((await metrics.posters.get()).values.map((v) => [v.labels.outcome, v.value]));

function maker(extract: ExtractPoster, opts: { storage?: BlobStorage; deletedAfterReads?: number; concurrent?: number; timeoutMs?: number } = {}) {
  let reads = 0;
  const deps = {
    config: { POSTER_MAX_CONCURRENT: opts.concurrent ?? 2, POSTER_TIMEOUT_MS: opts.timeoutMs ?? 5_000 },
    storage: opts.storage ?? storage,
    store: { readStream: async (id: string) => videoJobEvents(id.replace(/^job-/, ''), opts.deletedAfterReads !== undefined && ++reads > opts.deletedAfterReads ? 7 : 6) },
    logger: createLogger('gateway', 'silent'),
  } as unknown as GatewayDeps;
  return new PosterMaker(deps, extract, metrics);
}

async function storedJob(): Promise<string> {
  const jobId = newJobId();
  await storage.put(outputKey(jobId), Buffer.from('video'));
  return jobId;
}

describe('PosterMaker', () => {
  it('given requests that come together, then one still is made for all of them and kept for the next', async () => {
    const jobId = await storedJob();
    const extract = jest.fn<ReturnType<ExtractPoster>, Parameters<ExtractPoster>>(async () => still);
    const posters = maker(extract);
    const answers = await Promise.all([1, 2, 3, 4].map(() => posters.poster(jobId, 5)));
    expect(answers.every((a) => a.equals(still))).toBe(true);
    expect(extract).toHaveBeenCalledTimes(1);
    expect(extract.mock.calls[0]![0]).toBe(join(dir, outputKey(jobId)));
    expect(await readFile(join(dir, posterKey(jobId)))).toEqual(still);
    expect(await posters.poster(jobId, 5)).toEqual(still);
    expect(extract).toHaveBeenCalledTimes(1);
    expect(await counted()).toEqual({ made: 1, kept: 1 });
  });

  it('given every turn taken past the time limit, then it answers 503 with Retry-After; a run nobody waits for any more before its turn is dropped, one under way goes on', async () => {
    const [first, second] = [await storedJob(), await storedJob()];
    let finishFirst!: () => void;
    let firstStarted!: () => void;
    const firstHasTurn = new Promise<void>((r) => (firstStarted = r));
    const extract = jest.fn<ReturnType<ExtractPoster>, Parameters<ExtractPoster>>((file) => {
      if (!file.includes(first)) return Promise.resolve(still);
      firstStarted();
      return new Promise<Buffer>((r) => (finishFirst = () => r(still)));
    });
    const posters = maker(extract, { concurrent: 1, timeoutMs: 1_000 });
    const firstRequest = posters.poster(first, 5);
    // The two requests' reads of a kept poster may finish in either order: the first must hold the only turn before the second asks.
    await firstHasTurn;
    await expect(posters.poster(second, 5)).rejects.toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'Retry-After': '5' } });
    await expect(firstRequest).rejects.toMatchObject({ status: 503 });
    finishFirst();
    await expect(posters.poster(first, 5)).resolves.toEqual(still);
    // The second job's run never had its turn: it was dropped, and this request makes a new one.
    await expect(posters.poster(second, 5)).resolves.toEqual(still);
    expect(extract).toHaveBeenCalledTimes(2);
    expect(await counted()).toMatchObject({ busy: 2, made: 2, abandoned: 1 });
  });

  it('given a still slower to make than a request waits, then that request answers 503, and the run goes on for the next one', async () => {
    const jobId = await storedJob();
    let finish!: () => void;
    const extract = jest.fn<ReturnType<ExtractPoster>, Parameters<ExtractPoster>>(() => new Promise<Buffer>((r) => (finish = () => r(still))));
    const posters = maker(extract, { timeoutMs: 1_000 });
    await expect(posters.poster(jobId, 5)).rejects.toMatchObject({ code: 'service_unavailable', status: 503 });
    // A request while it still runs joins it, with a wait of its own.
    const joined = posters.poster(jobId, 5);
    finish();
    await expect(joined).resolves.toEqual(still);
    await expect(posters.poster(jobId, 5)).resolves.toEqual(still);
    expect(extract).toHaveBeenCalledTimes(1);
    expect(await counted()).toEqual({ busy: 1, made: 1, kept: 1 });
  });

  it('given a file ffmpeg cannot read, then 404; given no usable ffmpeg, then 503; neither keeps a poster', async () => {
    const jobId = await storedJob();
    await expect(maker(async () => Promise.reject(new FfmpegFailedError('moov atom not found'))).poster(jobId, 5)).rejects.toMatchObject({ code: 'not_found', message: 'No poster could be made from this video.' });
    const noFfmpeg = Object.assign(new Error('spawn ffmpeg ENOENT'), { code: 'ENOENT' });
    await expect(maker(async () => Promise.reject(noFfmpeg)).poster(jobId, 5)).rejects.toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(existsSync(join(dir, posterKey(jobId)))).toBe(false);
    expect(await counted()).toEqual({ unreadable: 1, unavailable: 1 });
  });

  it('given the video deleted while ffmpeg ran, then 410 and the still it made is removed', async () => {
    const jobId = await storedJob();
    await expect(maker(async () => still, { deletedAfterReads: 0 }).poster(jobId, 5)).rejects.toMatchObject({ code: 'output_deleted', status: 410 });
    expect(existsSync(join(dir, posterKey(jobId)))).toBe(false);
  });

  it('given the video gone from storage and its deletion recorded, then 410, not an ffmpeg error', async () => {
    const jobId = newJobId();
    await expect(maker(async () => Promise.reject(new FfmpegFailedError('No such file')), { deletedAfterReads: 0 }).poster(jobId, 5)).rejects.toMatchObject({ code: 'output_deleted' });
  });

  it('given storage without local files, then ffmpeg reads a temporary copy, removed afterwards', async () => {
    const jobId = await storedJob();
    // The same files, without the local path (as an object store would be).
    const remote: BlobStorage = {
      put: storage.put.bind(storage), stat: storage.stat.bind(storage), makeDurable: storage.makeDurable.bind(storage), read: storage.read.bind(storage), stream: storage.stream.bind(storage), open: storage.open.bind(storage),
      remove: storage.remove.bind(storage), removeIfOlderThan: storage.removeIfOlderThan.bind(storage), listOlderThan: storage.listOlderThan.bind(storage),
    };
    let copy = '';
    const posters = maker(async (file) => {
      copy = file;
      expect(await readFile(file, 'utf8')).toBe('video');
      return still;
    }, { storage: remote });
    expect(await posters.poster(jobId, 5)).toEqual(still);
    expect(copy).not.toBe(join(dir, outputKey(jobId)));
    expect(existsSync(copy)).toBe(false);
  });
});
