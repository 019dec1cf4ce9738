import { jobStreamId } from '@reelay/contracts';
import { jobIdForIdempotencyKey, newJobId, requestHash } from '@reelay/job-domain';
import { startE2EStack, type E2EStack } from './e2e-stack';

jest.setTimeout(120_000);

interface Job {
  id: string;
  status: string;
  prompt: string;
  model: string;
  aspectRatio: string;
  durationSeconds: number;
  resolution: string | null;
  seed: number | null;
  metadata: Record<string, string>;
  parentJobId?: string;
  credits: { estimated: number; charged: number | null };
}

let stack: E2EStack;
let alice: string;
let bob: string;

const call = async (key: string, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
  const res = await fetch(stack.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as Job & { error?: { code: string } } };
};
const waitDone = async (key: string, id: string): Promise<Job> => {
  for (let i = 0; i < 600; i++) {
    const { body } = await call(key, 'GET', `/v1/jobs/${id}`);
    if (['succeeded', 'failed', 'canceled'].includes(body.status)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
};
const jobCount = async (key: string) => ((await call(key, 'GET', '/v1/jobs?limit=100')).body as unknown as { data: unknown[] }).data.length;

beforeAll(async () => {
  stack = await startE2EStack('gwregen', { RATE_LIMIT_BURST: '1000' });
  alice = await stack.createKey('regen-alice', 100);
  bob = await stack.createKey('regen-bob', 100);
});
afterAll(() => stack?.stop());

describe('POST /v1/jobs/{id}/regenerate (intake, dispatch, polling and the local renderer as processes)', () => {
  it('makes a new job with the same settings, linked to the first, which runs and is charged like a submit', async () => {
    const first = await call(alice, 'POST', '/v1/jobs', {
      body: { model: 'local-preview', prompt: 'a paper crane unfolding', aspectRatio: '9:16', durationSeconds: 2, resolution: '480p', seed: 7, metadata: { take: 'one' } },
    });
    expect(first.status).toBe(202);
    expect(first.body).not.toHaveProperty('parentJobId');
    const done = await waitDone(alice, first.body.id);
    expect(done.status).toBe('succeeded');

    const again = await call(alice, 'POST', `/v1/jobs/${first.body.id}/regenerate`);
    expect(again.status).toBe(202);
    expect(again.headers.get('location')).toBe(`/v1/jobs/${again.body.id}`);
    expect(again.body.id).not.toBe(first.body.id);
    expect(again.body).toMatchObject({
      status: 'queued', parentJobId: first.body.id, model: 'local-preview', prompt: 'a paper crane unfolding', aspectRatio: '9:16', durationSeconds: 2, resolution: '480p', seed: 7, metadata: { take: 'one' },
    });
    const second = await waitDone(alice, again.body.id);
    expect(second).toMatchObject({ status: 'succeeded', parentJobId: first.body.id, credits: { charged: done.credits.charged } });
    // The list (job_view) carries the link too.
    const listed = ((await call(alice, 'GET', '/v1/jobs?limit=100')).body as unknown as { data: Job[] }).data.find((j) => j.id === again.body.id);
    expect(listed?.parentJobId).toBe(first.body.id);
  });

  it('answers a repeat with the same Idempotency-Key with the same new job, and the key used for another job with 409', async () => {
    const a = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a lantern', aspectRatio: '16:9', durationSeconds: 1 } });
    const b = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a kite', aspectRatio: '16:9', durationSeconds: 1 } });
    const once = await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { headers: { 'idempotency-key': 'regen-1' } });
    const twice = await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { headers: { 'idempotency-key': 'regen-1' } });
    expect([once.status, twice.status]).toEqual([202, 202]);
    expect(twice.body.id).toBe(once.body.id);
    const other = await call(alice, 'POST', `/v1/jobs/${b.body.id}/regenerate`, { headers: { 'idempotency-key': 'regen-1' } });
    expect(other.status).toBe(409);
    // A key first used for a plain submit is another request too.
    const plain = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a lantern', aspectRatio: '16:9', durationSeconds: 1 }, headers: { 'idempotency-key': 'regen-2' } });
    expect(plain.status).toBe(202);
    expect((await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { headers: { 'idempotency-key': 'regen-2' } })).status).toBe(409);
    const bad = await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { headers: { 'idempotency-key': 'not ascii é' } });
    expect(bad.status).toBe(400);
    // The key is checked before the body: a body that fails the checks under a used key is another request.
    const malformed = await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { body: { seed: 'seven' }, headers: { 'idempotency-key': 'regen-1' } });
    expect({ status: malformed.status, code: malformed.body.error?.code }).toEqual({ status: 409, code: 'idempotency_conflict' });
    const fresh = await call(alice, 'POST', `/v1/jobs/${a.body.id}/regenerate`, { body: { seed: 'seven' }, headers: { 'idempotency-key': 'regen-unused' } });
    expect({ status: fresh.status, code: fresh.body.error?.code }).toEqual({ status: 400, code: 'invalid_request' });
    for (const id of [a.body.id, b.body.id, once.body.id, plain.body.id]) await waitDone(alice, id);
  });

  it('takes another reference image and checks it as a submit does (the local renderer makes no image-to-video: 422, not a 400 for the field)', async () => {
    const first = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a harbour at dawn', aspectRatio: '16:9', durationSeconds: 1 } });
    expect(first.status).toBe(202);
    const withImage = await call(alice, 'POST', `/v1/jobs/${first.body.id}/regenerate`, { body: { referenceImage: { url: 'https://images.example.com/harbour.png' } } });
    expect({ status: withImage.status, code: withImage.body.error?.code }).toEqual({ status: 422, code: 'unsupported_settings' });
    const malformed = await call(alice, 'POST', `/v1/jobs/${first.body.id}/regenerate`, { body: { referenceImage: { url: 'not a url' } } });
    expect({ status: malformed.status, code: malformed.body.error?.code }).toEqual({ status: 400, code: 'invalid_request' });
    // (That a refused request makes no job is the hostile-input suite's property, counted in the log rather than the lagging list.)
    await waitDone(alice, first.body.id);
  });

  it("answers a repeat under its Idempotency-Key with the key's job even when the repeated job's settings fail today's checks", async () => {
    // Recorded as an older release accepted them: a duration in fractions of a second (whole seconds today).
    const settings = { model: 'local-preview', prompt: 'a clock with no hands', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 2.5, resolution: null, seed: null, referenceImage: null, webhookUrl: null, metadata: {} };
    const record = async (jobId: string, extra: Record<string, unknown>) => {
      const at = new Date().toISOString();
      const submitted = { jobId, userId: 'regen-alice', provider: 'local', ...settings, creditsEstimated: 1, requestHash: 'h', at, ...extra };
      // Canceled, so that nothing runs them now.
      await stack.gateway.deps.store.append(jobStreamId(jobId), 0, [{ type: 'JobSubmitted', data: submitted }, { type: 'JobCanceled', data: { at } }]);
    };
    const parentId = newJobId(new Date());
    await record(parentId, {});
    const noKey = await call(alice, 'POST', `/v1/jobs/${parentId}/regenerate`);
    expect({ status: noKey.status, code: noKey.body.error?.code }).toEqual({ status: 400, code: 'invalid_request' });

    // The key's job was made while the settings still passed, from what intake hashes for a regenerate.
    const key = 'regen-before-the-change';
    const childId = jobIdForIdempotencyKey('regen-alice', key);
    const asked = { model: settings.model, prompt: settings.prompt, aspectRatio: settings.aspectRatio, durationSeconds: settings.durationSeconds, metadata: {}, parentJobId: parentId };
    await record(childId, { parentJobId: parentId, requestHash: requestHash(asked) });
    const repeat = await call(alice, 'POST', `/v1/jobs/${parentId}/regenerate`, { headers: { 'idempotency-key': key } });
    expect({ status: repeat.status, id: repeat.body.id, parentJobId: repeat.body.parentJobId }).toEqual({ status: 202, id: childId, parentJobId: parentId });
    const changed = await call(alice, 'POST', `/v1/jobs/${parentId}/regenerate`, { body: { prompt: 'a clock with hands' }, headers: { 'idempotency-key': key } });
    expect({ status: changed.status, code: changed.body.error?.code }).toEqual({ status: 409, code: 'idempotency_conflict' });
  });

  it("answers 404 for another user's job, a missing one and a malformed id, and makes no job", async () => {
    const own = await call(alice, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'a private sketch', aspectRatio: '1:1', durationSeconds: 1 } });
    const before = await jobCount(bob);
    for (const id of [own.body.id, `job_${'0'.repeat(26)}`, 'not-a-job']) {
      const res = await call(bob, 'POST', `/v1/jobs/${id}/regenerate`);
      expect({ id, status: res.status, code: res.body.error?.code }).toEqual({ id, status: 404, code: 'not_found' });
    }
    expect(await jobCount(bob)).toBe(before);
    await waitDone(alice, own.body.id);
  });

  it('answers 402 when the credits do not cover the new job, as a submit does', async () => {
    const poor = await stack.createKey('regen-poor', 2);
    const first = await call(poor, 'POST', '/v1/jobs', { body: { model: 'local-preview', prompt: 'one small take', aspectRatio: '16:9', durationSeconds: 2 } });
    expect(first.status).toBe(202);
    await waitDone(poor, first.body.id);
    const again = await call(poor, 'POST', `/v1/jobs/${first.body.id}/regenerate`);
    expect(again.status).toBe(402);
    expect(await jobCount(poor)).toBe(1);
  });
});
