import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ProviderError, type ProviderAdapter } from '@reelay/providers';
import type { ServiceProcess } from '@reelay/testing';
import { LocalStorage, outputKey, type BlobStorage } from '@reelay/storage';
import { MODELS, simAdapters, startSim, tempDir } from '../testing/polling-harness';
import { takeOutput } from './take-output';

const notRecorded = async () => false;

const rules = { maxBytes: 50 * 1024 * 1024, minBytes: 1024, downloadTimeoutMs: 10_000 };

describe('takeOutput against provider-sim', () => {
  let sim: ServiceProcess;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let storage: BlobStorage;

  beforeAll(async () => {
    [sim, dir] = await Promise.all([startSim(), tempDir('take-output')]);
    const local = new LocalStorage(dir.path);
    // The copy is judged while it streams: reading the whole file back into memory is refused here.
    storage = { put: local.put.bind(local), stat: local.stat.bind(local), makeDurable: local.makeDurable.bind(local), stream: local.stream.bind(local), open: local.open.bind(local), remove: local.remove.bind(local), removeIfOlderThan: local.removeIfOlderThan.bind(local), listOlderThan: local.listOlderThan.bind(local), read: () => Promise.reject(new Error('read back into memory')) };
  });
  afterAll(async () => {
    await sim?.kill();
    await dir?.remove();
  });

  const finishedTask = async (prompt: string) => {
    const adapter = simAdapters(sim).get('seedance')!;
    const { providerTaskId } = await adapter.submit({ model: MODELS.seedance, prompt, durationSeconds: 5, aspectRatio: '16:9', submissionKey: `k-${Date.now()}-${Math.random()}` });
    for (;;) {
      const status = await adapter.check(providerTaskId);
      if (status.state === 'succeeded') return { adapter, outputUrl: status.outputUrl! };
      if (status.state === 'failed') throw new Error('task failed');
    }
  };

  it('stores the output and describes it from what it saw while copying, without reading it back', async () => {
    const { adapter, outputUrl } = await finishedTask('a fox [sim:success_after=1]');
    const result = await takeOutput({ storage, outputRules: rules }, 'job_take_output_1', adapter, outputUrl, notRecorded);
    const stored = await readFile(join(dir.path, outputKey('job_take_output_1')));
    expect(result).toEqual({
      kind: 'stored',
      output: {
        url: '/v1/jobs/job_take_output_1/content', contentType: 'video/mp4', bytes: stored.length, durationSeconds: expect.any(Number),
        width: expect.any(Number), height: expect.any(Number), sha256: createHash('sha256').update(stored).digest('hex'),
      },
    });
    expect(result.kind === 'stored' && result.output.durationSeconds).toBeGreaterThan(0);
  });

  it('calls an output over the byte cap missing', async () => {
    const { adapter, outputUrl } = await finishedTask('a fox [sim:success_after=1]');
    expect(await takeOutput({ storage, outputRules: { ...rules, maxBytes: 2000 } }, 'job_take_output_2', adapter, outputUrl, notRecorded)).toMatchObject({ kind: 'missing' });
  });

  it('given storage that fails before reading the download, then the download is closed at once, not left to its deadline', async () => {
    const { adapter, outputUrl } = await finishedTask('a fox [sim:success_after=1]');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const full: BlobStorage = { ...storage, put: () => Promise.reject(new Error('ENOSPC: no space left on device')) };
    expect(await takeOutput({ storage: full, outputRules: rules }, 'job_take_output_3', adapter, outputUrl, notRecorded)).toMatchObject({ kind: 'retry' });
    await new Promise((r) => setImmediate(r));
    expect(timers()).toBe(before);
  });

  it('given a body that ends short of its declared length, then nothing is stored and the copy is retried', async () => {
    const short: ProviderAdapter = {
      ...simAdapters(sim).get('seedance')!,
      fetchOutput: async () => ({
        status: 200,
        headers: new Headers({ 'content-type': 'video/mp4', 'content-length': '500000' }),
        body: Readable.from([Buffer.alloc(4096, 1)]),
      }),
    };
    const result = await takeOutput({ storage, outputRules: rules }, 'job_take_output_4', short, 'http://sim.invalid/out.mp4', notRecorded);
    expect(result).toEqual({ kind: 'retry', detail: 'output copy was cut short: 4096 of 500000 bytes' });
    expect(await storage.stat(outputKey('job_take_output_4'))).toBeNull();
  });

  /** An adapter whose download answers `body` with `headers`, for copies the simulator will not cut. */
  const serving = (headers: Record<string, string>, body: Buffer): ProviderAdapter => ({
    ...simAdapters(sim).get('seedance')!,
    fetchOutput: async () => ({ status: 200, headers: new Headers(headers), body: Readable.from([body]) }),
  });
  const realVideo = async () => {
    const { adapter, outputUrl } = await finishedTask('a fox [sim:success_after=1]');
    const res = await adapter.fetchOutput(outputUrl, { timeoutMs: 10_000 });
    return Buffer.concat(await res.body.toArray());
  };

  it('given a body with no length that ends inside the video, then nothing is stored and the copy is retried', async () => {
    const video = await realVideo();
    const cut = serving({ 'content-type': 'video/mp4' }, video.subarray(0, Math.floor(video.length * 0.6)));
    const result = await takeOutput({ storage, outputRules: rules }, 'job_take_output_5', cut, 'http://sim.invalid/out.mp4', notRecorded);
    expect(result).toMatchObject({ kind: 'retry', detail: expect.stringContaining('ended inside an MP4 box') });
    expect(await storage.stat(outputKey('job_take_output_5'))).toBeNull();
  });

  it('given a refused copy, then what the job\'s key holds is left untouched', async () => {
    const key = outputKey('job_take_output_6');
    const page = serving({ 'content-type': 'video/mp4' }, Buffer.from('<html>'.padEnd(4096, ' ')));
    const racing = { ...storage, stat: async () => null }; // it looked before another copy was placed
    await storage.put(key, Buffer.from('the video another check copied'));
    expect(await takeOutput({ storage: racing, outputRules: rules }, 'job_take_output_6', page, 'http://sim.invalid/out.mp4', notRecorded)).toMatchObject({ kind: 'missing' });
    expect((await readFile(join(dir.path, key))).toString()).toBe('the video another check copied');
  });

  /** The video with a trailing `free` box: still a valid MP4, with other bytes (a provider that serves a new rendition). */
  const variant = (video: Buffer, fill: number) => {
    const free = Buffer.alloc(16, fill);
    free.writeUInt32BE(16, 0);
    free.write('free', 4, 'latin1');
    return Buffer.concat([video, free]);
  };
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const mp4 = (bytes: Buffer) => serving({ 'content-type': 'video/mp4', 'content-length': String(bytes.length) }, bytes);

  it('given a copy already at the job\'s key, then a later copy of other bytes keeps it and describes that file, the one served', async () => {
    const video = await realVideo();
    const [first, second] = [variant(video, 1), variant(video, 2)];
    const key = outputKey('job_take_output_7');
    expect(await takeOutput({ storage, outputRules: rules }, 'job_take_output_7', mp4(first), 'http://sim.invalid/out.mp4', notRecorded)).toMatchObject({ kind: 'stored', output: { sha256: sha256(first) } });
    const late = await takeOutput({ storage, outputRules: rules }, 'job_take_output_7', mp4(second), 'http://sim.invalid/out.mp4', notRecorded);
    expect(late).toMatchObject({ kind: 'stored', output: { sha256: sha256(first), bytes: first.length, contentType: 'video/mp4', durationSeconds: expect.any(Number) } });
    expect((await readFile(join(dir.path, key))).equals(first)).toBe(true);
    expect((await readdir(join(dir.path, 'outputs'))).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('given a copy in place (a check retaken after a crash before JobSucceeded), then the job is stored from it without asking the provider, whose link may have expired', async () => {
    const video = await realVideo();
    await storage.put(outputKey('job_take_output_11'), video);
    let downloads = 0;
    const expired: ProviderAdapter = {
      ...simAdapters(sim).get('seedance')!,
      fetchOutput: async () => {
        downloads++;
        throw new ProviderError('output_missing', 'the signed link has expired', { httpStatus: 403 });
      },
    };
    // Its putter may have stopped before syncing the directory: the name is made durable before the job points at it.
    const durable = jest.spyOn(storage, 'makeDurable');
    const result = await takeOutput({ storage, outputRules: rules }, 'job_take_output_11', expired, 'http://sim.invalid/out.mp4', notRecorded);
    expect(result).toMatchObject({ kind: 'stored', output: { sha256: sha256(video), bytes: video.length } });
    expect(downloads).toBe(0);
    expect(durable).toHaveBeenCalledWith(outputKey('job_take_output_11'));
    // A sync that fails (EIO) is a copy to try again, not an output to record.
    durable.mockRejectedValueOnce(new Error('EIO: i/o error, fsync'));
    expect(await takeOutput({ storage, outputRules: rules }, 'job_take_output_11', expired, 'http://sim.invalid/out.mp4', notRecorded)).toMatchObject({ kind: 'retry' });
    durable.mockRestore();
  });

  it('given two copies at once (a check that lost its lease beside the new holder), then both describe the one file in place', async () => {
    const video = await realVideo();
    const results = await Promise.all([3, 4].map((fill) => takeOutput({ storage, outputRules: rules }, 'job_take_output_8', mp4(variant(video, fill)), 'http://sim.invalid/out.mp4', notRecorded)));
    const served = sha256(await readFile(join(dir.path, outputKey('job_take_output_8'))));
    expect(results.map((r) => r.kind === 'stored' && r.output.sha256)).toEqual([served, served]);
  });

  it('given an unusable file at the job\'s key, then it is removed and the copy tried again, which then stores its own', async () => {
    const video = await realVideo();
    const key = outputKey('job_take_output_9');
    await storage.put(key, Buffer.from('damaged in storage'));
    expect(await takeOutput({ storage, outputRules: rules }, 'job_take_output_9', mp4(video), 'http://sim.invalid/out.mp4', notRecorded)).toMatchObject({ kind: 'retry', detail: expect.stringContaining('unusable') });
    expect(await storage.stat(key)).toBeNull();
    expect(await takeOutput({ storage, outputRules: rules }, 'job_take_output_9', mp4(video), 'http://sim.invalid/out.mp4', notRecorded)).toMatchObject({ kind: 'stored', output: { sha256: sha256(video) } });
  });

  it('given an unusable file at the key that a JobSucceeded points at (judged by other rules), then it is left to be served', async () => {
    const key = outputKey('job_take_output_10');
    await storage.put(key, Buffer.from('served under the rules of another release'));
    const video = await realVideo();
    expect(await takeOutput({ storage, outputRules: rules }, 'job_take_output_10', mp4(video), 'http://sim.invalid/out.mp4', async () => true)).toMatchObject({ kind: 'retry', detail: expect.stringContaining('already points at it') });
    expect((await readFile(join(dir.path, key))).toString()).toBe('served under the rules of another release');
  });
});
