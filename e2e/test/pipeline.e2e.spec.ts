import type { CancelJobsResult, Job, RegenerateFailedResult } from '@reelay/contracts';
import { probeMp4, sniffImage } from '@reelay/media';
import { startStack, type Stack } from '@reelay/testing';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import type { AddressInfo } from 'node:net';
import { apiClient, isTerminalJob, type ApiClient } from './support/api-client';
import { readJobStream, statusesOf } from './support/sse';

// The whole pipeline as separate processes (provider simulator, gateway, intake, dispatch,
// polling, notification) on the real PostgreSQL and NATS, driven over HTTP like a client would.

let stack: Stack;
let alice: ApiClient;
let aliceKey: string;
let bob: ApiClient;
let assetServer: Server;
let assetHost: string;

const local = { model: 'local-preview', prompt: 'a red fox running through snow', aspectRatio: '16:9', durationSeconds: 2 };
// Runway through the simulator: scenarios ride in the prompt as [sim:...] tags.
const hailuo = { model: 'hailuo-02', prompt: 'a lighthouse at dusk', aspectRatio: '16:9', durationSeconds: 6 };
const runway = (tags: string) => ({ model: 'gen4.5', prompt: `a lighthouse at dusk [sim:${tags}]`, aspectRatio: '16:9', durationSeconds: 5 });

beforeAll(async () => {
  assetServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('this is not an image');
  });
  await new Promise<void>((r) => assetServer.listen(0, '127.0.0.1', r));
  assetHost = `127.0.0.1:${(assetServer.address() as AddressInfo).port}`;
  stack = await startStack({
    label: 'pipeline',
    replicas: { intake: 2, dispatch: 2, polling: 2 },
    env: {
      PROVIDERS_ENABLED: 'local,runway,minimax,kling,seedance',
      MODERATION_BLOCKED_TERMS: 'forbidden fruit',
      OUTBOUND_ALLOW_HOSTS: assetHost,
      DISPATCH_RATE_LIMIT_BUDGET_MS: '1500',
      DISPATCH_SERVER_MAX_RETRIES: '2',
      POLL_DEADLINE_MS: '4000',
      DEADLINE_SWEEP_MS: '250',
    },
  });
  aliceKey = stack.createUser('alice', 1000);
  alice = apiClient(stack.gateway.url, aliceKey);
  bob = apiClient(stack.gateway.url, stack.createUser('bob', 1000));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  assetServer?.close();
});

const balance = () => JSON.parse(stack.cli('credits', 'balance', '--user', 'alice').out).balance as number;

/** Credits settle asynchronously after a job ends: wait until the balance reaches what we expect. */
async function expectBalance(expected: number) {
  const deadline = Date.now() + 10_000;
  while (balance() !== expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(balance()).toBe(expected);
}

describe('success path', () => {
  it('runs a job to succeeded, streams every status and serves a playable MP4', async () => {
    const before = balance();
    const submitted = await alice.submit(local);
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'queued', message: 'Your video is waiting to start.', credits: { estimated: 2 } });
    const events = await readJobStream(`${stack.gateway.url}/v1/jobs/${submitted.body.id}/stream`, aliceKey);
    expect(statusesOf(events)).toEqual(['queued', 'validating', 'running', 'succeeded']);
    const done = events.at(-1)!.job;
    expect(done).toMatchObject({ message: 'Your video is ready.', progress: 100, output: { contentType: 'video/mp4' }, credits: { charged: 2 } });
    // The local renderer makes what was asked: nothing differs.
    expect(done.output).not.toHaveProperty('differsFromRequest');
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    // Queued until a provider took it, then generated: both spans can be read off the job.
    expect(events.find((e) => e.job.status === 'validating')!.job).not.toHaveProperty('startedAt');
    const [created, started, completed] = [done.createdAt, done.startedAt!, done.completedAt!].map(Date.parse);
    expect(created).toBeLessThanOrEqual(started);
    expect(started).toBeLessThanOrEqual(completed);
    expect(events.find((e) => e.job.status === 'running')!.job.startedAt).toBe(done.startedAt);

    const content = await fetch(`${stack.gateway.url}/v1/jobs/${done.id}/content`, { headers: { authorization: `Bearer ${aliceKey}` } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const info = probeMp4(Buffer.from(await content.arrayBuffer()));
    expect(info?.durationSeconds).toBeCloseTo(2, 0);
    expect(info?.width! / info?.height!).toBeCloseTo(16 / 9, 1);
    await expectBalance(before - 2);
  });

  it('serves a still of the video as its poster, and removes it with the video', async () => {
    const job = (await alice.submit(local)).body;
    const done = await alice.waitFor(job.id, isTerminalJob);
    expect(done.links?.poster).toBe(`/v1/jobs/${job.id}/poster`);
    const auth = { headers: { authorization: `Bearer ${aliceKey}` } };
    const poster = await fetch(`${stack.gateway.url}/v1/jobs/${job.id}/poster`, auth);
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/webp');
    const still = sniffImage(Buffer.from(await poster.arrayBuffer()));
    expect(still?.width! / still?.height!).toBeCloseTo(16 / 9, 1);
    const files = ['mp4', 'poster.webp'].map((ext) => join(stack.env.STORAGE_DIR!, 'outputs', `${job.id}.${ext}`));
    expect(files.map((f) => existsSync(f))).toEqual([true, true]);

    expect((await fetch(`${stack.gateway.url}/v1/jobs/${job.id}/output`, { method: 'DELETE', ...auth })).status).toBe(200);
    expect((await fetch(`${stack.gateway.url}/v1/jobs/${job.id}/poster`, auth)).status).toBe(410);
    // Polling removes the files once the deletion reaches it.
    const deadline = Date.now() + 10_000;
    while (files.some((f) => existsSync(f)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(files.map((f) => existsSync(f))).toEqual([false, false]);
  });

  it('resumes the stream after Last-Event-ID and ends at the terminal status', async () => {
    const job = (await alice.submit(local)).body;
    await alice.waitFor(job.id, isTerminalJob);
    const all = await readJobStream(`${stack.gateway.url}/v1/jobs/${job.id}/stream`, aliceKey);
    const resumed = await readJobStream(`${stack.gateway.url}/v1/jobs/${job.id}/stream`, aliceKey, { lastEventId: all[1].id });
    expect(resumed.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
    // Resuming after the terminal event: 204, which tells an EventSource to stop reconnecting.
    const done = await fetch(`${stack.gateway.url}/v1/jobs/${job.id}/stream`, { headers: { authorization: `Bearer ${aliceKey}`, 'last-event-id': String(all.at(-1)!.id) } });
    expect(done.status).toBe(204);
  });

  it.each([
    ['a Kling job through Kling\'s own API (signed tokens, enveloped answers)', 'kling-2.1', 'kling', 5, 20],
    ['a Hailuo job through MiniMax\'s wire format (base_resp answers, a file to look up)', 'hailuo-02', 'minimax', 6, 30],
  ])('runs %s and serves its video', async (_what, model, provider, durationSeconds, charged) => {
    const job = (await alice.submit({ model, prompt: 'lanterns over a river [sim:success_after=2]', aspectRatio: '16:9', durationSeconds })).body;
    const done = await alice.waitFor(job.id, isTerminalJob);
    expect(done).toMatchObject({ status: 'succeeded', provider, output: { contentType: 'video/mp4' }, credits: { charged } });
    const content = await fetch(`${stack.gateway.url}/v1/jobs/${job.id}/content`, { headers: { authorization: `Bearer ${aliceKey}` } });
    expect(content.status).toBe(200);
    expect(probeMp4(Buffer.from(await content.arrayBuffer()))?.durationSeconds).toBeGreaterThan(0);
  });

  it('goes delayed when the provider is slow, then succeeds', async () => {
    const job = (await alice.submit(runway('success_after=9'))).body;
    const events = await readJobStream(`${stack.gateway.url}/v1/jobs/${job.id}/stream`, aliceKey);
    expect(statusesOf(events)).toEqual(['queued', 'validating', 'running', 'delayed', 'succeeded']);
    expect(events.find((e) => e.job.status === 'delayed')!.job.message).toBe('This is taking longer than usual. We are still checking.');
  });
});

describe('reference images', () => {
  /** Until alice's job list (a read model that trails the log a little) shows the job, with `status` if given. */
  const listedAs = async (jobId: string, status?: string) => {
    for (let i = 0; i < 100; i++) {
      const list = await alice.call<{ data: Job[] }>('GET', '/v1/jobs?limit=100');
      const mine = list.body.data.find((j) => j.id === jobId);
      if (mine && (!status || mine.status === status)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} not listed${status ? ` as ${status}` : ''}`);
  };
  /** A real PNG of `color` (320x180 unless `size` says otherwise), uploaded by alice. */
  const upload = async (color: string, size = '320x180') => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
    const file = join(mkdtempSync(join(tmpdir(), 'ref-')), 'ref.png');
    execFileSync(ffmpeg, ['-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=${color}:s=${size}`, '-frames:v', '1', file]);
    const res = await fetch(`${stack.gateway.url}/v1/assets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'image/png' },
      body: readFileSync(file),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; width: number };
  };

  it('hands an uploaded image to the provider (inlined) and succeeds', async () => {
    const asset = await upload('orange');
    expect(asset.width).toBe(320);
    const job = (await alice.submit({ ...runway('success_after=1'), referenceImage: { assetId: asset.id } })).body;
    const done = await alice.waitFor(job.id, isTerminalJob);
    expect(done.status).toBe('succeeded');
    const tasks = (await (await fetch(`${stack.sim.url}/_sim/tasks`)).json()) as { submissionKey: string | null; inputImage: string | null }[];
    expect(tasks.find((t) => t.submissionKey?.startsWith(job.id))?.inputImage).toBe('data:image/png;base64,');

    // Its owner deletes it once the job list shows the job finished (it refuses while an unfinished
    // job names the image): a job made from it since (here the same settings again) cannot read it.
    await listedAs(job.id, 'succeeded');
    expect((await alice.call('DELETE', `/v1/assets/${asset.id}`)).status).toBe(204);
    expect(await alice.call('DELETE', `/v1/assets/${asset.id}`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const again = await alice.call<Job>('POST', `/v1/jobs/${job.id}/regenerate`);
    expect(again.status).toBe(202);
    expect(await alice.waitFor(again.body.id, isTerminalJob)).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });

  it("fits an image Seedance would refuse (3:1, wider than its 2.5) to Seedance's bounds, sends the copy and succeeds; the job shows what was sent", async () => {
    const asset = await upload('purple', '1200x400');
    const seedance = { model: 'seedance-1-0-pro', prompt: 'a wide panorama, slowly [sim:success_after=1]', aspectRatio: '16:9', durationSeconds: 5 };
    const job = (await alice.submit({ ...seedance, referenceImage: { assetId: asset.id } })).body;
    const done = await alice.waitFor(job.id, isTerminalJob);
    // The simulator refuses an image outside Ark's bounds as Ark does, so success means the copy was sent.
    expect(done).toMatchObject({ status: 'succeeded', referenceImage: { assetId: asset.id }, referenceImageFitted: { width: 999, height: 400, cropped: true } });
    const tasks = (await (await fetch(`${stack.sim.url}/_sim/tasks`)).json()) as { submissionKey: string | null; provider: string }[];
    expect(tasks.filter((t) => t.provider === 'seedance' && t.submissionKey?.startsWith(job.id))).toHaveLength(1);
    // The copy is an image of alice's: bob cannot name it.
    const copy = done.referenceImageFitted!.assetId;
    expect(copy).not.toBe(asset.id);
    const bobs = (await bob.submit({ ...seedance, referenceImage: { assetId: copy } })).body;
    expect(await bob.waitFor(bobs.id, isTerminalJob)).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });

  it('refuses to delete an image an unfinished job names (409), and deletes it once that job is over', async () => {
    const asset = await upload('teal');
    const job = (await alice.submit({ ...runway('success_after=1000'), referenceImage: { assetId: asset.id } })).body;
    const listed = (status?: string) => listedAs(job.id, status);
    await listed();
    const refused = await alice.call<{ error: { code: string; message: string } }>('DELETE', `/v1/assets/${asset.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringContaining(job.id) });
    expect((await alice.cancel(job.id)).status).toBe(202);
    await listed('canceled');
    expect((await alice.call('DELETE', `/v1/assets/${asset.id}`)).status).toBe(204);
  });
});

describe('each error code from real behaviour', () => {
  const cases: [string, () => Record<string, unknown>, string][] = [
    // (Hailuo: Runway's models take https image links only, and these test servers speak http.)
    ['validation_failed (reference image is not an image)', () => ({ ...hailuo, referenceImage: { url: `http://${assetHost}/cat.png` } }), 'validation_failed'],
    ['moderation_rejected (a moderation rule)', () => ({ ...local, prompt: 'the Forbidden Fruit of knowledge' }), 'moderation_rejected'],
    ['asset_fetch_failed (a private address)', () => ({ ...hailuo, referenceImage: { url: 'http://10.1.2.3/cat.png' } }), 'asset_fetch_failed'],
    ['provider_rate_limited (429s past the budget)', () => runway('rate_limit=1000'), 'provider_rate_limited'],
    ['unknown_provider_error (5xx past the retries)', () => runway('server_error=1000'), 'unknown_provider_error'],
    ['provider_timeout (a passed deadline)', () => runway('never_finish'), 'provider_timeout'],
    ['output_missing (success without an output)', () => runway('no_output'), 'output_missing'],
    ['moderation_rejected (after generation, at the provider)', () => runway('moderation_after'), 'moderation_rejected'],
  ];
  it.each(cases)('%s', async (_name, body, code) => {
    const before = balance();
    const submitted = await alice.submit(body());
    expect(submitted.status).toBe(202);
    const job = await alice.waitFor(submitted.body.id, isTerminalJob, 40_000);
    expect(job).toMatchObject({ status: 'failed', errorCode: code });
    expect(job.message).not.toMatch(/sim|runway|http|error:/i);
    await expectBalance(before);
  });
});

describe('cancel', () => {
  it('cancels a job before it runs and releases its credits', async () => {
    const before = balance();
    const job = (await alice.submit(runway('success_after=1'))).body;
    const canceled = await alice.cancel(job.id);
    expect(canceled.status).toBe(202);
    expect(canceled.body).toMatchObject({ status: 'canceled', message: 'This video was canceled.' });
    expect(canceled.headers.get('etag')).toBe(`"${canceled.body.version}"`);
    await new Promise((r) => setTimeout(r, 500));
    const read = await alice.get(job.id);
    expect(read.body.status).toBe('canceled');
    // A client's cache revalidates with the tag it was given, weak or in a list.
    for (const tag of [`W/${read.headers.get('etag')}`, `"0", ${read.headers.get('etag')}`]) {
      expect((await alice.call('GET', `/v1/jobs/${job.id}`, undefined, { 'if-none-match': tag })).status).toBe(304);
    }
    await expectBalance(before);
  });

  it('cancels a job not finished by its deadline (cancelAfterSeconds): the provider is asked to stop, the credits come back, and the job says why', async () => {
    const before = balance();
    // Runway never finishes it; this stack would fail it at its 4 s poll deadline after acceptance, after the job's own 2 s.
    const job = (await alice.submit({ ...runway('never_finish'), cancelAfterSeconds: 2 })).body;
    expect(job).toMatchObject({ cancelAfterSeconds: 2, cancelAt: new Date(Date.parse(job.createdAt) + 2000).toISOString() });
    const running = await alice.waitFor(job.id, (j) => j.status === 'running' || isTerminalJob(j), 10_000);
    const done = await alice.waitFor(job.id, isTerminalJob, 10_000);
    expect(done).toMatchObject({ status: 'canceled', message: 'This video was canceled: it was not ready within the 2 seconds you allowed.', cancellation: { reason: 'deadline' } });
    expect(Date.parse(done.completedAt!)).toBeGreaterThanOrEqual(Date.parse(job.createdAt) + 2000);
    await expectBalance(before);
    // The provider's task is stopped, as on the owner's cancel (on a machine too slow to send it in 2 s, none was started).
    const stopped = await alice.waitFor(job.id, (j) => j.cancellation?.providerTask === (running.status === 'running' ? 'stopped' : 'none'), 10_000);
    expect(stopped.cancellation).toEqual({ providerTask: running.status === 'running' ? 'stopped' : 'none', reason: 'deadline' });
    // A regenerate keeps the deadline; the submit refuses one that is not a whole number of seconds from 1 to 6 days.
    const again = await alice.call<Job>('POST', `/v1/jobs/${job.id}/regenerate`);
    expect(again.body).toMatchObject({ cancelAfterSeconds: 2 });
    await alice.cancel(again.body.id);
    expect((await alice.submit({ ...local, cancelAfterSeconds: 0 })).status).toBe(400);
  });

  it('cancels every unfinished job of yours with the given metadata in one call, and says what became of each', async () => {
    const before = balance();
    const batch = `batch-${Date.now()}`;
    const done = (await alice.submit({ ...local, metadata: { batch, shot: '0' } })).body;
    await alice.waitFor(done.id, isTerminalJob, 40_000);
    // Canceled within a second or so, well before this stack's 4 s poll deadline could fail them.
    const waiting = [];
    for (let shot = 1; shot <= 3; shot++) waiting.push((await alice.submit({ ...runway('never_finish'), metadata: { batch, shot: String(shot) } })).body);
    const other = (await alice.submit({ ...runway('never_finish'), metadata: { batch: 'another' } })).body;
    const bobs = (await bob.submit({ ...runway('never_finish'), metadata: { batch } })).body;
    // The list is a read model: wait until it shows the waiting jobs.
    const listed = async () => (await alice.call<{ data: Job[] }>('GET', `/v1/jobs?metadata[batch]=${batch}&limit=100`)).body.data;
    const deadline = Date.now() + 10_000;
    while ((await listed()).filter((j) => j.status !== 'succeeded').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    const res = await alice.call<CancelJobsResult>('POST', '/v1/jobs/cancel', { metadata: { batch } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ object: 'job_cancel_batch', canceled: waiting.map((j) => j.id), notCanceled: [], hasMore: false, nextCursor: null });
    for (const job of waiting) expect((await alice.get(job.id)).body).toMatchObject({ status: 'canceled' });
    expect((await alice.get(done.id)).body.status).toBe('succeeded');
    expect((await alice.get(other.id)).body.status).not.toBe('canceled');
    expect((await bob.get(bobs.id)).body.status).not.toBe('canceled');
    // Nothing left to cancel; a filter naming no key is refused.
    expect((await alice.call('POST', '/v1/jobs/cancel', { metadata: { batch } })).body).toMatchObject({ canceled: [], hasMore: false });
    expect((await alice.call('POST', '/v1/jobs/cancel', { metadata: {} })).status).toBe(400);
    await alice.cancel(other.id);
    await bob.cancel(bobs.id);
    await expectBalance(before - (await alice.get(done.id)).body.credits.charged!);
  });

  it('generates again the failed jobs of a batch: once each, retryable ones only unless told, then the new ones that failed, not their parents', async () => {
    const batch = `regen-${Date.now()}`;
    const timedOut: Job[] = [];
    for (let shot = 1; shot <= 2; shot++) timedOut.push((await alice.submit({ ...runway('never_finish'), metadata: { batch, shot: String(shot) } })).body);
    const refused = (await alice.submit({ ...runway('moderation_after'), metadata: { batch, shot: '3' } })).body;
    const elsewhere = (await alice.submit({ ...runway('never_finish'), metadata: { batch: 'another' } })).body;
    for (const job of [...timedOut, refused, elsewhere]) await alice.waitFor(job.id, isTerminalJob);
    const regenerate = (body: unknown = { metadata: { batch } }, client = alice) => client.call<RegenerateFailedResult>('POST', '/v1/jobs/regenerate-failed', body);
    const parentsOf = (r: RegenerateFailedResult) => r.created.map((c) => c.parentJobId);
    // Calls until `want` failed jobs were generated again: the job list may show them failed one by
    // one, so a call can take some; one failed job never gets two new jobs, whichever call takes it.
    const until = async (want: number) => {
      const made = new Map<string, Job>();
      for (const deadline = Date.now() + 15_000; made.size < want && Date.now() < deadline; ) {
        const answer = await regenerate();
        expect([answer.status, answer.body.notCreated]).toEqual([200, []]);
        for (const c of answer.body.created) {
          if (made.has(c.parentJobId)) expect(c.job.id).toBe(made.get(c.parentJobId)!.id);
          made.set(c.parentJobId, c.job);
        }
        if (made.size < want) await new Promise((r) => setTimeout(r, 200));
      }
      return made;
    };
    const round = await until(2);
    expect([...round.keys()].sort()).toEqual(timedOut.map((j) => j.id).sort());
    const children = timedOut.map((j) => round.get(j.id)!);
    children.forEach((child, i) => expect(child).toMatchObject({ parentJobId: timedOut[i]!.id, prompt: timedOut[i]!.prompt, metadata: timedOut[i]!.metadata }));

    // Sent again, the call makes nothing new: while the job list does not show the new jobs yet,
    // each failed job's key gives its new job back; once it does, those failed jobs are skipped.
    const resent = await regenerate();
    expect(resent.body.notCreated).toEqual([]);
    for (const c of resent.body.created) expect(children.map((j) => j.id)).toContain(c.job.id);
    const repeats = async () => (await alice.call<{ data: Job[] }>('GET', `/v1/jobs?metadata[batch]=${batch}&limit=100`)).body.data.filter((j) => j.parentJobId).map((j) => j.id).sort();
    for (const deadline = Date.now() + 10_000; (await repeats()).length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(await repeats()).toEqual(children.map((c) => c.id).sort());
    expect((await regenerate()).body).toMatchObject({ created: [], notCreated: [] });
    // Bob's call touches none of alice's jobs.
    expect((await regenerate({ metadata: { batch } }, bob)).body).toMatchObject({ created: [], notCreated: [] });

    // Once the new jobs failed too, the next call takes them, not their parents a second time.
    for (const child of children) await alice.waitFor(child.id, isTerminalJob);
    const again = await until(2);
    expect([...again.keys()].sort()).toEqual(children.map((c) => c.id).sort());
    // The refused job is taken only when asked for every failure. The job list may not show the
    // jobs just made yet: their parents then come back, and their keys give the same jobs back.
    const everyFailure = (await regenerate({ metadata: { batch }, retryableOnly: false })).body;
    expect(parentsOf(everyFailure)).toContain(refused.id);
    const justMade = [...again.values()].map((j) => j.id);
    for (const c of everyFailure.created.filter((c) => c.parentJobId !== refused.id)) expect(justMade).toContain(c.job.id);
    for (const id of new Set([...justMade, ...everyFailure.created.map((c) => c.job.id)])) await alice.cancel(id);
  });

  it('cancels a running job and asks the provider to stop', async () => {
    const job = (await alice.submit(runway('never_finish'))).body;
    await alice.waitFor(job.id, (j) => j.status === 'running');
    expect((await alice.cancel(job.id)).body).toMatchObject({ status: 'canceled', cancellation: { providerTask: 'stopping' } });
    const tasks = async () => (await (await fetch(`${stack.sim.url}/_sim/tasks`)).json()) as { id: string; status?: string; state?: string }[] | Record<string, unknown>;
    const deadline = Date.now() + 10_000;
    let seen = '';
    while (Date.now() < deadline) {
      seen = JSON.stringify(await tasks());
      if (/cancel/i.test(seen)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toMatch(/cancel/i);
  });

  it("holds a canceled job's capacity slot until the task the provider could not stop has ended", async () => {
    // Kling has no cancel call: the task goes on generating there and counts against the account's limit.
    const job = (await alice.submit({ model: 'kling-2.1', prompt: 'a lighthouse at dusk [sim:never_finish]', aspectRatio: '16:9', durationSeconds: 5 })).body;
    await alice.waitFor(job.id, (j) => j.status === 'running');
    expect((await alice.cancel(job.id)).body.status).toBe('canceled');
    const db = new Client({ connectionString: stack.db.url });
    await db.connect();
    try {
      const slotHeld = async () => (await db.query(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [job.id])).rowCount === 1;
      await new Promise((r) => setTimeout(r, 1000));
      expect(await slotHeld()).toBe(true);
      // Polling checks the task until the job's deadline (POLL_DEADLINE_MS, 4 s here), then gives up on it and the slot is freed.
      const ended = async () => ((await alice.call('GET', `/v1/jobs/${job.id}/events`)).body as { data: { type: string; reason?: string }[] }).data.find((e) => e.type === 'JobProviderTaskEnded');
      const deadline = Date.now() + 15_000;
      while (!(await ended()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await ended()).toMatchObject({ reason: 'deadline_passed', status: 'canceled' });
      // Given up on, the task's fate is unknown to the client.
      expect((await alice.call('GET', `/v1/jobs/${job.id}`)).body).toMatchObject({ status: 'canceled', cancellation: { providerTask: 'unknown' } });
      while ((await slotHeld()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await slotHeld()).toBe(false);
    } finally {
      await db.end();
    }
  });

  it('records, waits out and then frees the slot of a task a provider accepted after the cancel (the submit was under way)', async () => {
    // Kling takes 2 s to answer the create, and has no cancel call.
    const job = (await alice.submit({ model: 'kling-2.1', prompt: 'a lighthouse at dusk [sim:never_finish,slow=2000]', aspectRatio: '16:9', durationSeconds: 5 })).body;
    const events = async () => ((await alice.call('GET', `/v1/jobs/${job.id}/events`)).body as { data: { type: string; reason?: string; status: string }[] }).data;
    const until = async (what: string, check: (e: { type: string; reason?: string }[]) => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!check(await events()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect([what, check(await events())]).toEqual([what, true]);
    };
    await until('the submit under way', (e) => e.some((x) => x.type === 'JobSubmissionIntended'));
    const canceled = await alice.cancel(job.id);
    // Canceled while the submit was under way: whether the provider started the job is not known yet.
    expect(canceled.body).toMatchObject({ status: 'canceled', cancellation: { providerTask: 'unknown' } });
    const db = new Client({ connectionString: stack.db.url });
    await db.connect();
    try {
      const slotHeld = async () => (await db.query(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [job.id])).rowCount === 1;
      await until('the late acceptance recorded', (e) => e.some((x) => x.type === 'JobProviderAcceptedAfterCancel'));
      // The client sees the job still canceled, in a new version that says the provider has it and is being stopped.
      const read = await alice.call('GET', `/v1/jobs/${job.id}`);
      expect(read.body).toMatchObject({ status: 'canceled', version: canceled.body.version + 1, cancellation: { providerTask: 'stopping' } });
      await new Promise((r) => setTimeout(r, 1000));
      expect(await slotHeld()).toBe(true);
      // Polling checks the task until the job's deadline (POLL_DEADLINE_MS, 4 s here), then gives up on it, and the slot is freed.
      await until('the task end recorded', (e) => e.some((x) => x.type === 'JobProviderTaskEnded' && x.reason === 'deadline_passed'));
      const deadline = Date.now() + 10_000;
      while ((await slotHeld()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await slotHeld()).toBe(false);
    } finally {
      await db.end();
    }
  });

  it('refuses to cancel a finished job', async () => {
    const job = (await alice.submit(local)).body;
    await alice.waitFor(job.id, isTerminalJob);
    expect(await alice.cancel(job.id)).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
  });
});

describe('idempotency, ownership, credits', () => {
  it('returns the same job for a repeated Idempotency-Key, 409 for another body', async () => {
    const first = await alice.submit(local, { 'idempotency-key': 'e2e-1' });
    const again = await alice.submit(local, { 'idempotency-key': 'e2e-1' });
    expect(again.body.id).toBe(first.body.id);
    const other = await alice.submit({ ...local, prompt: 'something else' }, { 'idempotency-key': 'e2e-1' });
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'idempotency_conflict' } } });
    // The key is checked before the body: a body that would not pass today's checks is another request too.
    const malformed = await alice.submit({ ...local, durationSeconds: 'two' } as never, { 'idempotency-key': 'e2e-1' });
    expect(malformed).toMatchObject({ status: 409, body: { error: { code: 'idempotency_conflict' } } });
    // Under an unused key it is the 400 it always was, and makes no job.
    const unused = await alice.submit({ ...local, durationSeconds: 'two' } as never, { 'idempotency-key': 'e2e-unused' });
    expect(unused).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect((await alice.submit(local, { 'idempotency-key': 'e2e-unused' })).status).toBe(202);
  });

  it("answers 404 for another user's job everywhere", async () => {
    const job = (await alice.submit(local)).body;
    for (const path of ['', '/events', '/stream', '/content']) {
      expect((await bob.call('GET', `/v1/jobs/${job.id}${path}`)).status).toBe(404);
    }
    expect((await bob.cancel(job.id)).status).toBe(404);
  });

  it('refuses a job the balance cannot pay for (402) and creates nothing', async () => {
    const poor = apiClient(stack.gateway.url, stack.createUser('carol', 1));
    const r = await poor.submit(local);
    expect(r).toMatchObject({ status: 402, body: { error: { code: 'insufficient_credits' } } });
    expect((await poor.call<{ data: unknown[] }>('GET', '/v1/jobs')).body.data).toEqual([]);
  });

  it('records the history of a job without internal details', async () => {
    const job = (await alice.submit(local)).body;
    await alice.waitFor(job.id, isTerminalJob);
    const history = await alice.call<{ data: { type: string; status: string }[] }>('GET', `/v1/jobs/${job.id}/events`);
    expect(history.body.data.map((e) => e.type)).toEqual(expect.arrayContaining(['JobSubmitted', 'JobValidated', 'JobProviderAccepted', 'JobSucceeded']));
    expect(JSON.stringify(history.body)).not.toMatch(/submissionKey|requestHash|providerTaskId/);
  });
});

describe('generate again, changing the model', () => {
  it('tries another provider with the same prompt and a new seed; the new model\'s limits are checked like a submit', async () => {
    const first = (await alice.submit({ ...runway('success_after=1'), seed: 11 })).body;
    expect(await alice.waitFor(first.id, isTerminalJob)).toMatchObject({ status: 'succeeded', provider: 'runway' });

    const elsewhere = await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { model: 'kling-2.1', seed: null });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body).toMatchObject({ model: 'kling-2.1', provider: 'kling', prompt: first.prompt, durationSeconds: 5, seed: null, parentJobId: first.id });
    expect(await alice.waitFor(elsewhere.body.id, isTerminalJob)).toMatchObject({ status: 'succeeded', provider: 'kling' });
    // The simulator delivers one 2 s clip whatever was asked, and the job says so.
    expect((await alice.get(first.id)).body.output?.differsFromRequest).toEqual([{ field: 'durationSeconds', requested: 5, delivered: 2 }]);

    // MiniMax's Hailuo takes 6 or 10 seconds: the 5 of the first job are refused, naming the field; changed too, it runs.
    const refused = await alice.call<{ error: { code: string; details: { path: string }[] } }>('POST', `/v1/jobs/${first.id}/regenerate`, { model: 'hailuo-02' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('unsupported_settings');
    expect(refused.body.error.details.map((d) => d.path)).toContain('durationSeconds');
    const longer = await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { model: 'hailuo-02', durationSeconds: 6 });
    expect(longer.status).toBe(202);
    expect(longer.body).toMatchObject({ provider: 'minimax', durationSeconds: 6, seed: 11 });

    // Idempotency-Key: the same key and body give the same new job; another body answers 409.
    const keyed = await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { seed: 12 }, { 'idempotency-key': 'regen-1' });
    expect((await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { seed: 12 }, { 'idempotency-key': 'regen-1' })).body.id).toBe(keyed.body.id);
    expect((await alice.call('POST', `/v1/jobs/${first.id}/regenerate`, { seed: 13 }, { 'idempotency-key': 'regen-1' })).status).toBe(409);
    // Another shape and resolution; then null drops the resolution again (the model's default).
    const tall = await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { aspectRatio: '9:16', resolution: '720p' });
    expect(tall.body).toMatchObject({ aspectRatio: '9:16', resolution: '720p', seed: 11 });
    expect((await alice.call<Job>('POST', `/v1/jobs/${tall.body.id}/regenerate`, { resolution: null })).body).toMatchObject({ aspectRatio: '9:16', resolution: null, parentJobId: tall.body.id });
    expect((await alice.call('POST', `/v1/jobs/${first.id}/regenerate`, null)).status).toBe(400);

    // Only those settings may change.
    const other = await alice.call<{ error: { code: string; details: { path: string }[] } }>('POST', `/v1/jobs/${first.id}/regenerate`, { metadata: { take: 'two' } });
    expect(other.status).toBe(400);
    expect(other.body.error.details.map((d) => d.path)).toEqual(['metadata']);
    // Another prompt is one of them.
    expect((await alice.call<Job>('POST', `/v1/jobs/${first.id}/regenerate`, { prompt: 'a lighthouse at dawn [sim:success_after=1]' })).body).toMatchObject({ prompt: 'a lighthouse at dawn [sim:success_after=1]', parentJobId: first.id });
  });
});
