import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startE2EStack, type E2EStack } from './e2e-stack';

jest.setTimeout(120_000);

interface Job {
  id: string;
  status: string;
  message: string;
  version: number;
  completedAt: string | null;
  output: { url: string; sha256: string; expiresAt?: string; deletedAt?: string } | null;
}
type Reply = Job & { error?: { code: string; message: string; type?: string }; deleted?: boolean; expires_at?: number | null };

/**
 * Outputs are kept RETENTION_S seconds: long enough to act on a job, and to see its file go,
 * before the retention sweep could take it (so a file gone by then went by the deletion asked for).
 */
const RETENTION_S = 15;

let stack: E2EStack;
let alice: string;

const call = async (key: string, method: string, path: string) => {
  const res = await fetch(stack.url + path, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null) as Reply };
};
const until = async (key: string, id: string, done: (job: Job) => boolean, timeoutMs = 30_000): Promise<Job> => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const { body } = await call(key, 'GET', `/v1/jobs/${id}`);
    if (done(body)) return body;
  }
  throw new Error(`job ${id} did not get there in ${timeoutMs} ms`);
};
const succeededJob = async (prompt: string): Promise<Job> => {
  const res = await fetch(`${stack.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'local-preview', prompt, aspectRatio: '16:9', durationSeconds: 1, resolution: '480p' }),
  });
  expect(res.status).toBe(202);
  const job = await until(alice, ((await res.json()) as Job).id, (j) => ['succeeded', 'failed', 'canceled'].includes(j.status));
  expect(job.status).toBe('succeeded');
  // Where the tests below look for it: "gone" means something only if it was there.
  expect(await outputFiles()).toContain(`${job.id}.mp4`);
  return job;
};
const outputFiles = async () => (await readdir(join(stack.storageDir, 'outputs'))).filter((n) => n.endsWith('.mp4'));
/** Whether the job's file is gone by `deadline` (ms since the epoch). */
const fileGone = async (jobId: string, deadline: number) => {
  for (; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (!(await outputFiles()).includes(`${jobId}.mp4`)) return true;
  }
  return false;
};
/** Before the retention could have taken the file of a job finished at `completedAt`. */
const beforeRetention = (job: Job) => Date.parse(job.completedAt!) + (RETENTION_S - 2) * 1000;
/** The job's stream from the start: the versions it sends and the last job. */
const replay = async (id: string) => {
  const text = await (await fetch(`${stack.url}/v1/jobs/${id}/stream`, { headers: { authorization: `Bearer ${alice}` } })).text();
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)) as Job);
  return { statuses: data.map((j) => j.status), last: data.at(-1)! };
};

beforeAll(async () => {
  stack = await startE2EStack('gwoutputs', { RATE_LIMIT_BURST: '1000' }, {
    OUTPUT_RETENTION_DAYS: String(RETENTION_S / 86_400),
    OUTPUT_RETENTION_SWEEP_MS: '500',
    MODERATION_BLOCKED_TERMS: 'forbiddenword',
  });
  alice = await stack.createKey('outputs-alice', 100);
});
afterAll(() => stack?.stop());

describe('deleting outputs (intake, polling and the local renderer as processes)', () => {
  it('its owner deletes a video: the job says so at once, the content answers 410, the file goes; asking again changes nothing', async () => {
    const job = await succeededJob('a kite over dunes');
    expect((await call(alice, 'GET', `/v1/jobs/${job.id}/content`)).status).toBe(200);

    const deleted = await call(alice, 'DELETE', `/v1/jobs/${job.id}/output`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'succeeded', message: 'This video was deleted. Generate it again to get a new one.', output: { sha256: job.output!.sha256, deletedAt: expect.any(String) } });
    expect(deleted.body.version).toBeGreaterThan(job.version);

    const content = await call(alice, 'GET', `/v1/jobs/${job.id}/content`);
    expect(content.status).toBe(410);
    expect(content.body.error).toMatchObject({ code: 'output_deleted', message: expect.stringMatching(/deleted/) });
    expect(await fileGone(job.id, beforeRetention(job))).toBe(true);

    // The stream, which ends with the job's finished version, sends it as it is now.
    const streamed = await replay(job.id);
    expect(streamed.statuses.filter((st) => st === 'succeeded')).toHaveLength(1);
    expect(streamed.last).toMatchObject({ status: 'succeeded', version: deleted.body.version, output: { deletedAt: deleted.body.output!.deletedAt } });

    const again = await call(alice, 'DELETE', `/v1/jobs/${job.id}/output`);
    expect({ status: again.status, version: again.body.version, deletedAt: again.body.output?.deletedAt }).toEqual({ status: 200, version: deleted.body.version, deletedAt: deleted.body.output!.deletedAt });

    const history = (await call(alice, 'GET', `/v1/jobs/${job.id}/events`)).body as unknown as { data: { type: string; reason?: string; message: string }[] };
    expect(history.data.at(-1)).toMatchObject({ type: 'JobOutputDeleted', reason: 'user', message: 'This video was deleted. Generate it again to get a new one.' });
    // The settings are still there to make it again.
    expect((await call(alice, 'POST', `/v1/jobs/${job.id}/regenerate`)).status).toBe(202);
  });

  it('a job with no video answers 409 and records nothing', async () => {
    const res = await fetch(`${stack.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local-preview', prompt: 'a forbiddenword at sea', aspectRatio: '16:9', durationSeconds: 1, resolution: '480p' }),
    });
    const { id } = (await until(alice, ((await res.json()) as Job).id, (j) => j.status === 'failed')) as Job;
    const refused = await call(alice, 'DELETE', `/v1/jobs/${id}/output`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'invalid_state', message: 'This job is failed: only a succeeded job has a video to delete.' });
    const history = (await call(alice, 'GET', `/v1/jobs/${id}/events`)).body as unknown as { data: { type: string }[] };
    expect(history.data.map((e) => e.type)).not.toContain('JobOutputDeleted');
  });

  it('the OpenAI-compatible delete removes a completed video\'s file; its content then answers 410 in OpenAI\'s shape', async () => {
    const job = await succeededJob('a lighthouse at dusk');
    const video = await call(alice, 'GET', `/v1/videos/${job.id}`);
    expect(video.body.expires_at).toBe(Math.floor(Date.parse(job.output!.expiresAt!) / 1000));
    const deleted = await call(alice, 'DELETE', `/v1/videos/${job.id}`);
    expect(deleted.body).toEqual({ id: job.id, object: 'video.deleted', deleted: true });
    const content = await call(alice, 'GET', `/v1/videos/${job.id}/content`);
    expect(content.status).toBe(410);
    expect(content.body.error).toMatchObject({ code: 'output_deleted', type: 'invalid_request_error' });
    expect(await fileGone(job.id, beforeRetention(job))).toBe(true);
  });

  it('the retention ends: the job said when, the sweep deletes the file and the job says that too', async () => {
    const job = await succeededJob('waves on basalt');
    const expiresAt = Date.parse(job.output!.expiresAt!);
    expect(expiresAt - Date.parse(job.completedAt!)).toBe(RETENTION_S * 1000);
    expect(job.output).not.toHaveProperty('deletedAt');
    expect((await call(alice, 'GET', `/v1/jobs/${job.id}/content`)).status).toBe(200);
    expect(await outputFiles()).toContain(`${job.id}.mp4`);

    const gone = await until(alice, job.id, (j) => j.output?.deletedAt != null, (RETENTION_S + 20) * 1000);
    expect(Date.parse(gone.output!.deletedAt!)).toBeGreaterThanOrEqual(expiresAt);
    expect(gone).toMatchObject({ status: 'succeeded', message: 'This video was deleted. Generate it again to get a new one.' });
    expect((await call(alice, 'GET', `/v1/jobs/${job.id}/content`)).status).toBe(410);
    expect(await fileGone(job.id, Date.now() + 10_000)).toBe(true);
    const history = (await call(alice, 'GET', `/v1/jobs/${job.id}/events`)).body as unknown as { data: { type: string; reason?: string }[] };
    expect(history.data.filter((e) => e.type === 'JobOutputDeleted')).toEqual([expect.objectContaining({ reason: 'retention' })]);
  });
});
