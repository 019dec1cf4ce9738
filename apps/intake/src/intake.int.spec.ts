import { Catalog } from '@reelay/catalog';
import { creditStreamId, jobStreamId, parseEvent, type CreditEvent, type RecordedEvent, type SubmitJobCommand } from '@reelay/contracts';
import { createDataSource, DeadLetterStore, EventStore, runMigrations } from '@reelay/event-store';
import { availableCredits, creditsDecider, creditsLedgerFold, DEADLINE_CHECK_GRACE_MS, toPublicJob, type CreditsState } from '@reelay/job-domain';
import { sniffImage } from '@reelay/media';
import { LocalStorage, assetKey } from '@reelay/storage';
import { createTestDatabase, withExifOrientation, type TestDatabase } from '@reelay/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { cancelJob } from './cancel-job/cancel-job.handler';
import { cancelOverdueJobs } from './cancel-at-deadline/cancel-at-deadline';
import { dropDeadline, recordDeadline } from './shared/job-deadlines';
import { INTAKE_MIGRATIONS } from './migrations';
import { createIntakeMetrics } from './shared/intake-metrics';
import type { IntakeDeps } from './intake.deps';
import { loadJob } from './shared/job-stream';
import { settleCredits } from './settle-credits/settle-credits.handler';
import { submitJob } from './submit-job/submit-job.handler';
import { validateJob } from './validate-job/validate-job.handler';
import { ValidateAfterSubmit } from './validate-job/validate-after-submit';
import { validateUnvalidated } from './validate-job/validate-sweep';
import { settleDeadLettered } from './settle-credits/settle-dead-lettered';
import { rebuildJobView } from '@reelay/read-models';
import { IntakeEventsController } from './intake.controller';
import { createLogger, createMetrics, onOneReplica } from '@reelay/service-kit';
import { ffmpegImageFitter } from './validate-job/fit-reference-image';

let db: TestDatabase;
let ds: DataSource;
let deps: IntakeDeps;
let user = 0;

const request = { model: 'local-preview', prompt: 'a red fox running through snow', aspectRatio: '16:9' as const, durationSeconds: 3 };
const submit = (userId: string, over: Partial<SubmitJobCommand> = {}, store = deps.store) =>
  submitJob({ ...deps, store }, { userId, request, correlationId: 'c1', ...over } as SubmitJobCommand);

const quiet = createLogger('intake', 'silent');

/** A real PNG of one colour and this size, made by ffmpeg (as a user's upload would be). */
function pngOf(colour: string, width: number, height: number): Buffer {
  const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
  const file = join(mkdtempSync(join(tmpdir(), 'img-')), 'a.png');
  execFileSync(ffmpeg, ['-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', file]);
  return readFileSync(file);
}

async function newUser(credits: number): Promise<string> {
  const userId = `user${++user}`;
  if (credits > 0) {
    const events = creditsDecider.decide({ type: 'GrantCredits', userId, amount: credits, now: new Date() }, creditsDecider.initialState());
    await deps.store.append(creditStreamId(userId), 'any', events);
  }
  return userId;
}

/** The job's events from queued to succeeded, as the other services append them. */
async function acceptAtProvider(jobId: string) {
  const at = new Date().toISOString();
  await deps.store.append(jobStreamId(jobId), 1, [
    { type: 'JobValidationStarted', data: { at } },
    { type: 'JobValidated', data: { at, referenceImage: null } },
    { type: 'JobSubmissionIntended', data: { provider: 'local', attempt: 1, submissionKey: `${jobId}:1`, at } },
    { type: 'JobProviderAccepted', data: { provider: 'local', providerTaskId: 't1', at } },
  ]);
}

async function succeed(jobId: string) {
  await acceptAtProvider(jobId);
  const at = new Date().toISOString();
  await deps.store.append(jobStreamId(jobId), 5, [
    { type: 'JobSucceeded', data: { at, creditsCharged: 3, output: { url: 'x', contentType: 'video/mp4', bytes: 1, durationSeconds: 3, width: 1, height: 1, sha256: 'x' } } },
  ]);
}

function loadedLedger(store: EventStore, userId: string) {
  return store.states.get<CreditsState>(creditsLedgerFold, creditStreamId(userId))!;
}

async function balance(userId: string) {
  const events = await deps.store.readStream(creditStreamId(userId));
  return availableCredits(events.reduce((s, e) => creditsDecider.evolve(s, parseEvent(e.type, e.schemaVersion, e.data) as CreditEvent), creditsDecider.initialState()));
}

/** The registry intake's figures go to in this suite. */
const testMetrics = createMetrics('intake-test');

/** The value of one of intake's counters (summed over the series with these labels). */
async function counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = testMetrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

/** Where `moving.example.com` resolves to (a test moves it). */
let movingHostAddress = '93.184.216.34';

beforeAll(async () => {
  db = await createTestDatabase('intake');
  ds = createDataSource(db.url, { poolSize: 12, migrations: INTAKE_MIGRATIONS });
  await ds.initialize();
  await runMigrations(ds);
  deps = {
    store: new EventStore(ds),
    storage: new LocalStorage(mkdtempSync(join(tmpdir(), 'reelay-intake-'))),
    catalog: new Catalog(['local', 'openai'], undefined, { simulated: ['openai'] }),
    blockedTerms: ['forbidden thing'],
    imageRules: { maxBytes: 1024 * 1024, timeoutMs: 2000, minSide: 64, maxSide: 4096, allowHosts: [] },
    fitImage: ffmpegImageFitter(1),
    metrics: createIntakeMetrics(testMetrics),
    resolver: async (host) => {
      if (host === 'hooks.example.com') return [{ address: '93.184.216.34', family: 4 }];
      if (host === 'hooks.internal.example') return [{ address: '10.20.30.40', family: 4 }];
      if (host === 'moving.example.com') return [{ address: movingHostAddress, family: 4 }];
      throw new Error(`ENOTFOUND ${host}`);
    },
    now: () => new Date(),
  };
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

describe('submit', () => {
  it('creates the job as queued and holds its price', async () => {
    const userId = await newUser(100);
    const reply = await submit(userId);
    expect(reply).toMatchObject({ ok: true, job: { status: 'queued', message: 'Your video is waiting to start.', credits: { estimated: 3, charged: null }, version: 1 } });
    expect(await balance(userId)).toBe(97);
  });

  it('refuses settings the model cannot do with 422 and writes nothing', async () => {
    const userId = await newUser(100);
    const reply = await submit(userId, { request: { ...request, model: 'sora-2', durationSeconds: 5, aspectRatio: '1:1' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'unsupported_settings', details: [{ path: 'durationSeconds' }, { path: 'aspectRatio' }] } });
    expect(await balance(userId)).toBe(100);
  });

  it('refuses an unknown model as an invalid request', async () => {
    const reply = await submit(await newUser(100), { request: { ...request, model: 'nope' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request', details: [{ path: 'model' }] } });
  });

  it('refuses a webhook URL every delivery would be refused for (a local address, a name resolving to one, a port not allowed), writing nothing', async () => {
    const userId = await newUser(100);
    for (const webhookUrl of ['http://10.0.0.1/hook', 'http://localhost/hook', 'http://2130706433/hook', 'https://hooks.internal.example/cb', 'https://hooks.example.com:9000/cb']) {
      const reply = await submit(userId, { request: { ...request, webhookUrl } });
      expect([webhookUrl, reply]).toEqual([webhookUrl, { ok: false, error: { code: 'invalid_request', message: expect.stringContaining('webhook URL cannot be used'), details: [{ path: 'webhookUrl', message: expect.any(String) }] } }]);
    }
    expect(await balance(userId)).toBe(100);
    expect(await submit(userId, { request: { ...request, webhookUrl: 'https://hooks.example.com/cb' } })).toMatchObject({ ok: true });
    // A name that does not resolve now may later: its deliveries check it again.
    expect(await submit(userId, { request: { ...request, webhookUrl: 'https://not-yet.example.com/cb' } })).toMatchObject({ ok: true });
  });

  it('answers 402 when the balance is short, creating no job', async () => {
    const userId = await newUser(2);
    const reply = await submit(userId, { idempotencyKey: 'short' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
    const again = await submit(await newUser(0));
    expect(again).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
  });

  it('returns the same job for a repeated Idempotency-Key and 409 for a different body', async () => {
    const userId = await newUser(100);
    const first = await submit(userId, { idempotencyKey: 'k-1' });
    const second = await submit(userId, { idempotencyKey: 'k-1' });
    expect(first.ok && second.ok && first.job.id === second.job.id).toBe(true);
    expect(await balance(userId)).toBe(97);
    const conflict = await submit(userId, { idempotencyKey: 'k-1', request: { ...request, prompt: 'something else' } });
    expect(conflict).toMatchObject({ ok: false, error: { code: 'idempotency_conflict' } });
  });

  it('answers a repeated Idempotency-Key before checking the request again: the same job, or 409 for a different (even invalid) body', async () => {
    const userId = await newUser(100);
    const withHook = { ...request, webhookUrl: 'https://moving.example.com/cb' };
    const first = await submit(userId, { idempotencyKey: 'k-moved', request: withHook });
    expect(first).toMatchObject({ ok: true });
    movingHostAddress = '10.1.2.3';
    try {
      // The webhook host now resolves to a private address: a new submit is refused, the retry is not.
      expect(await submit(userId, { request: withHook })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      const retry = await submit(userId, { idempotencyKey: 'k-moved', request: withHook });
      expect(retry.ok && first.ok && retry.job.id === first.job.id).toBe(true);
    } finally {
      movingHostAddress = '93.184.216.34';
    }
    expect(await submit(userId, { idempotencyKey: 'k-moved', request: { ...request, model: 'nope' } })).toMatchObject({ ok: false, error: { code: 'idempotency_conflict' } });
    expect(await balance(userId)).toBe(97);
  });

  it('tells onCreated about a new job once, after it is committed, and not about a replay', async () => {
    const userId = await newUser(100);
    const created: [string, string, string][] = [];
    const onCreated = (e: { type: string; streamId: string }, job: { status: string }) => void created.push([e.type, e.streamId, job.status]);
    const cmd = { userId, request, correlationId: 'c1', idempotencyKey: 'told-once' } as SubmitJobCommand;
    const first = await submitJob(deps, cmd, { onCreated });
    await submitJob(deps, cmd, { onCreated });
    if (!first.ok) throw new Error('refused');
    expect(created).toEqual([['JobSubmitted', jobStreamId(first.job.id), 'queued']]);
    // Refused submits create nothing and tell nothing.
    await submitJob(deps, { ...cmd, idempotencyKey: undefined, userId: await newUser(0) } as SubmitJobCommand, { onCreated });
    expect(created).toHaveLength(1);
  });

  it('concurrent idempotent submits create one job', async () => {
    const userId = await newUser(100);
    const replies = await Promise.all(Array.from({ length: 6 }, () => submit(userId, { idempotencyKey: 'race' })));
    const ids = new Set(replies.map((r) => (r.ok ? r.job.id : r.error.code)));
    expect(ids.size).toBe(1);
    expect(await balance(userId)).toBe(97);
  });

  it('never lets the balance go negative under concurrent submits by one user', async () => {
    const userId = await newUser(10);
    const replies = await Promise.all(Array.from({ length: 10 }, () => submit(userId)));
    expect(replies.filter((r) => r.ok)).toHaveLength(3);
    expect(replies.filter((r) => !r.ok && r.error.code === 'insufficient_credits')).toHaveLength(7);
    expect(await balance(userId)).toBe(1);
  });

  it('accepts many concurrent submits by one user with enough credits, each exactly once', async () => {
    const userId = await newUser(1000);
    const replies = await Promise.all(Array.from({ length: 24 }, () => submit(userId)));
    expect(replies.filter((r) => r.ok)).toHaveLength(24);
    expect(await balance(userId)).toBe(1000 - 24 * 3);
  });

  it('does not refuse for the hold of a job that ended but whose settlement is not in the ledger yet', async () => {
    const userId = await newUser(6);
    const failedJob = (await submit(userId)) as { ok: true; job: { id: string } };
    const succeededJob = (await submit(userId)) as { ok: true; job: { id: string } };
    expect(await balance(userId)).toBe(0);
    // Both ended (validation refused one, the other succeeded); intake-credits has not taken either end yet.
    const at = new Date().toISOString();
    await deps.store.append(jobStreamId(failedJob.job.id), 1, [{ type: 'JobValidationStarted', data: { at } }, { type: 'JobFailed', data: { errorCode: 'moderation_rejected', message: null, detail: null, at } }]);
    await succeed(succeededJob.job.id);
    expect(await submit(userId)).toMatchObject({ ok: true, job: { status: 'queued' } });
    const ledger = (await deps.store.readStream(creditStreamId(userId))).map((e) => [e.type, (e.data as { jobId?: string }).jobId]);
    expect(ledger.slice(3, 5).sort()).toEqual([['CreditsReleased', failedJob.job.id], ['CreditsSettled', succeededJob.job.id]].sort());
    expect(await balance(userId)).toBe(0);
    // Taken later, those ends change nothing more.
    await settleCredits(deps, failedJob.job.id, {});
    await settleCredits(deps, succeededJob.job.id, {});
    expect(await balance(userId)).toBe(0);
    expect(await deps.store.streamVersion(creditStreamId(userId))).toBe(6);
  });

  it('does not refuse on a stale cached balance: credits granted by another process count', async () => {
    const userId = await newUser(2);
    expect(await submit(userId)).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
    await submit(userId); // this process now holds the 2-credit ledger in its cache
    const elsewhere = new EventStore(ds); // e.g. ops-cli granting credits
    const grant = creditsDecider.decide({ type: 'GrantCredits', userId, amount: 50, now: new Date() }, creditsDecider.initialState());
    await elsewhere.append(creditStreamId(userId), 'any', grant);
    expect(await submit(userId)).toMatchObject({ ok: true, job: { status: 'queued' } });
    expect(await balance(userId)).toBe(49);
  });

  it('does not overdraw on a stale cached balance: holds made by another process count', async () => {
    const userId = await newUser(6);
    expect(await submit(userId)).toMatchObject({ ok: true }); // cached here: 3 left
    const otherIntake: IntakeDeps = { ...deps, store: new EventStore(ds) };
    expect(await submitJob(otherIntake, { userId, request, correlationId: 'c2' } as SubmitJobCommand)).toMatchObject({ ok: true }); // 0 left
    expect(await submit(userId)).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
    expect(await balance(userId)).toBe(0);
  });

  it('submits again on the committed ledger when another append moved it, without locking the ledger', async () => {
    const userId = await newUser(100);
    expect(await submit(userId)).toMatchObject({ ok: true }); // cached here: version 2
    // Another process moved the ledger (here a grant; under load most often the settle of an earlier
    // job): the ledger this process holds is now stale.
    const elsewhere = new EventStore(ds);
    const grant = creditsDecider.decide({ type: 'GrantCredits', userId, amount: 5, now: new Date() }, creditsDecider.initialState());
    await elsewhere.append(creditStreamId(userId), 'any', grant);
    const runner = ds.createQueryRunner();
    const transactions = jest.spyOn(Object.getPrototypeOf(runner), 'startTransaction');
    await runner.release();
    try {
      expect(await submit(userId)).toMatchObject({ ok: true, job: { status: 'queued' } });
      expect(transactions).not.toHaveBeenCalled();
    } finally {
      transactions.mockRestore();
    }
    expect(await balance(userId)).toBe(99);
  });

  it('writes the submits of many users made at the same time in a few statements, not a transaction each', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => newUser(100)));
    await Promise.all(users.map((u) => submit(u))); // each ledger now cached
    const spy = jest.spyOn(ds, 'query');
    const runners = jest.spyOn(ds, 'createQueryRunner');
    try {
      const replies = await Promise.all(users.map((u) => submit(u)));
      expect(replies.every((r) => r.ok)).toBe(true);
      // Every statement and every transaction takes a connection: 12 submits took one or two.
      expect(runners.mock.calls.length).toBeLessThanOrEqual(2);
      expect(spy.mock.calls.filter(([sql]) => /reelay_append/.test(String(sql))).length).toBeLessThanOrEqual(2);
    } finally {
      spy.mockRestore();
      runners.mockRestore();
    }
    for (const u of users) expect(await balance(u)).toBe(94);
  });
});

describe('validation', () => {
  async function submitted(over: Partial<typeof request> & Record<string, unknown> = {}) {
    const userId = await newUser(100);
    const reply = await submit(userId, { request: { ...request, ...over } as never });
    if (!reply.ok) throw new Error(JSON.stringify(reply.error));
    return { userId, jobId: reply.job.id };
  }

  it('moves a clean job to validating and marks it validated', async () => {
    const { jobId } = await submitted();
    await validateJob(deps, jobId, {});
    const job = await loadJob(deps.store, jobId);
    expect(job.state).toMatchObject({ status: 'validating', validated: true });
    await validateJob(deps, jobId, {});
    expect((await loadJob(deps.store, jobId)).version).toBe(job.version);
  });

  it('a JobSubmitted delivery waits for the validation this process started at submit instead of racing it', async () => {
    const validation = new ValidateAfterSubmit(deps, createLogger('intake', 'silent'));
    const controller = new IntakeEventsController(deps, validation);
    let created: RecordedEvent | undefined;
    const reply = await submitJob(deps, { userId: await newUser(100), request, correlationId: 'c1' } as SubmitJobCommand, {
      onCreated: (event, job) => {
        created = event;
        validation.start(event, job);
      },
    });
    if (!reply.ok || !created) throw new Error('not created');
    const appends = jest.spyOn(deps.store, 'appendMany');
    try {
      // The delivery arrives while the validation started at submit has not appended yet.
      await controller.onSubmitted(created);
      expect(appends).toHaveBeenCalledTimes(1); // the submit's validation only: no racing append, no conflict
    } finally {
      appends.mockRestore();
    }
    expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({ status: 'validating', validated: true });
  });

  it('fails a prompt that matches a moderation rule', async () => {
    const { jobId } = await submitted({ prompt: 'please show a Forbidden Thing here' });
    await validateJob(deps, jobId, {});
    expect((await loadJob(deps.store, jobId)).state).toMatchObject({ status: 'failed', errorCode: 'moderation_rejected' });
  });

  it('checks an uploaded reference image of the same user', async () => {
    const userId = await newUser(100);
    await deps.storage.put(assetKey('asset_abcdefgh12'), pngOf('blue', 128, 96), { contentType: 'image/png', metadata: { userId } });
    const reply = await submit(userId, { request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { assetId: 'asset_abcdefgh12' } } });
    if (!reply.ok) throw new Error(reply.error.message);
    await validateJob(deps, reply.job.id, {});
    expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({ status: 'validating', validated: true });

    const other = await newUser(100);
    const stolen = await submit(other, { request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { assetId: 'asset_abcdefgh12' } } });
    if (!stolen.ok) throw new Error(stolen.error.message);
    await validateJob(deps, stolen.job.id, {});
    expect((await loadJob(deps.store, stolen.job.id)).state).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });

  it("fits an image its model's providers would refuse: Seedance's shape cut to within bounds, Sora's exact video size; the copy is an image of the user's", async () => {
    const userId = await newUser(500);
    await deps.storage.put(assetKey('asset_widewidewide12'), pngOf('red', 1200, 400), { contentType: 'image/png', metadata: { userId } });
    const withSeedance = { ...deps, catalog: new Catalog(['local', 'openai', 'seedance'], undefined, { simulated: ['openai'] }) };
    const job = async (model: string, durationSeconds: number) => {
      const reply = await submitJob(withSeedance, { userId, correlationId: 'c1', request: { ...request, model, durationSeconds, referenceImage: { assetId: 'asset_widewidewide12' } } });
      if (!reply.ok) throw new Error(reply.error.message);
      await validateJob(withSeedance, reply.job.id, {});
      return (await loadJob(deps.store, reply.job.id)).state;
    };
    const seedance = await job('seedance-1-0-pro', 5);
    expect(seedance).toMatchObject({ status: 'validating', validated: true, referenceImageFitted: { width: 999, height: 400, cropped: true, contentType: 'image/png' } });
    const copy = seedance.referenceImageFitted!;
    expect(sniffImage(await deps.storage.read(assetKey(copy.assetId)))).toEqual({ contentType: 'image/png', width: 999, height: 400 });
    expect((await deps.storage.stat(assetKey(copy.assetId)))?.metadata).toMatchObject({ userId, width: 999, height: 400 });
    expect(toPublicJob(seedance).referenceImageFitted).toEqual({ assetId: copy.assetId, width: 999, height: 400, cropped: true });
    expect(await counterValue('reelay_reference_image_fits_total', { outcome: 'fitted' })).toBeGreaterThanOrEqual(1);

    const sora = await job('sora-2', 4);
    expect(sora.referenceImageFitted).toMatchObject({ width: 1280, height: 720, cropped: true });
    // The same fit of the same image is the same asset (a redelivered validation stores no second copy).
    expect((await job('seedance-1-0-pro', 5)).referenceImageFitted?.assetId).toBe(copy.assetId);
    // An image the model takes as it is is sent as it is.
    await deps.storage.put(assetKey('asset_exactsizeexact1'), pngOf('blue', 1280, 720), { contentType: 'image/png', metadata: { userId } });
    const exact = await submitJob(withSeedance, { userId, correlationId: 'c1', request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { assetId: 'asset_exactsizeexact1' } } });
    if (!exact.ok) throw new Error(exact.error.message);
    await validateJob(withSeedance, exact.job.id, {});
    expect((await loadJob(deps.store, exact.job.id)).state).toMatchObject({ validated: true, referenceImageFitted: null });
  });

  it('turns a photo upright as its EXIF says (else a provider that ignores EXIF makes a sideways video), for any model', async () => {
    const userId = await newUser(500);
    const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
    const file = join(mkdtempSync(join(tmpdir(), 'img-')), 'a.jpg');
    execFileSync(ffmpeg, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=green:s=1280x720', '-frames:v', '1', file]);
    // Stored 1280x720, shown 720x1280: a portrait photo as a phone stores it.
    await deps.storage.put(assetKey('asset_portraitphoto01'), withExifOrientation(readFileSync(file), 6), { contentType: 'image/jpeg', metadata: { userId } });
    const job = async (model: string, aspectRatio: '16:9' | '9:16', durationSeconds: number) => {
      const reply = await submit(userId, { request: { ...request, model, aspectRatio, durationSeconds, referenceImage: { assetId: 'asset_portraitphoto01' } } });
      if (!reply.ok) throw new Error(reply.error.message);
      await validateJob(deps, reply.job.id, {});
      return (await loadJob(deps.store, reply.job.id)).state;
    };
    // Sora 9:16 takes exactly 720x1280: the photo as shown, so it is only turned.
    const sora = await job('sora-2', '9:16', 4);
    expect(sora).toMatchObject({ validated: true, referenceImageFitted: { width: 720, height: 1280, cropped: false, contentType: 'image/jpeg' } });
    expect(sniffImage(await deps.storage.read(assetKey(sora.referenceImageFitted!.assetId)))).toEqual({ contentType: 'image/jpeg', width: 720, height: 1280 });
    // Sora 16:9: the middle of the upright photo, scaled to 1280x720.
    expect((await job('sora-2', '16:9', 4)).referenceImageFitted).toMatchObject({ width: 1280, height: 720, cropped: true });

    // The same photo by URL is turned too for Sora: it suits 9:16 as shown, but Sora, which ignores
    // EXIF, would judge the 1280x720 it is stored at and refuse it. For a model that takes the stored
    // size as well, the URL is sent as the URL (a provider taking links only could not be sent a copy).
    const photo = withExifOrientation(readFileSync(file), 6);
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const byUrl = await submit(userId, { request: { ...request, model: 'sora-2', aspectRatio: '9:16', durationSeconds: 4, referenceImage: { url: `http://${host}/portrait.jpg` } } });
      if (!byUrl.ok) throw new Error(byUrl.error.message);
      await validateJob({ ...deps, imageRules: { ...deps.imageRules, allowHosts: [host] } }, byUrl.job.id, {});
      expect((await loadJob(deps.store, byUrl.job.id)).state).toMatchObject({ status: 'validating', validated: true, referenceImageFitted: { width: 720, height: 1280, cropped: false } });
      const withSeedance = { ...deps, catalog: new Catalog(['local', 'openai', 'seedance'], undefined, { simulated: ['openai'] }), imageRules: { ...deps.imageRules, allowHosts: [host] } };
      const seedance = await submitJob(withSeedance, { userId, correlationId: 'c1', request: { ...request, model: 'seedance-1-0-pro', aspectRatio: '9:16', durationSeconds: 5, referenceImage: { url: `http://${host}/portrait.jpg` } } });
      if (!seedance.ok) throw new Error(seedance.error.message);
      await validateJob(withSeedance, seedance.job.id, {});
      expect((await loadJob(deps.store, seedance.job.id)).state).toMatchObject({ status: 'validating', validated: true, referenceImageFitted: null });
    } finally {
      server.close();
    }
  });

  it('refuses to fit an image over 25 megapixels (ffmpeg would need more memory than an intake has), saying so', async () => {
    const userId = await newUser(500);
    await deps.storage.put(assetKey('asset_hugeimagehuge01'), pngOf('red', 6000, 4500), { contentType: 'image/png', metadata: { userId } });
    const large = { ...deps, imageRules: { ...deps.imageRules, maxSide: 8192 } };
    const reply = await submitJob(large, { userId, correlationId: 'c1', request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { assetId: 'asset_hugeimagehuge01' } } });
    if (!reply.ok) throw new Error(reply.error.message);
    await validateJob(large, reply.job.id, {});
    expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({
      status: 'failed',
      errorCode: 'validation_failed',
      failureMessage: 'The reference image is 6000x4500; sora-2 needs it changed, which reelay does for images of up to 25 megapixels.',
    });
  });

  it('fails an image that looks like a PNG but cannot be decoded when it must be fitted, saying it could not be read', async () => {
    const userId = await newUser(100);
    const broken = Buffer.concat([pngOf('red', 800, 600).subarray(0, 33), Buffer.alloc(200, 7)]);
    await deps.storage.put(assetKey('asset_brokenbroken12'), broken, { contentType: 'image/png', metadata: { userId } });
    const reply = await submit(userId, { request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { assetId: 'asset_brokenbroken12' } } });
    if (!reply.ok) throw new Error(reply.error.message);
    await validateJob(deps, reply.job.id, {});
    expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({ status: 'failed', errorCode: 'validation_failed', failureMessage: 'The reference image could not be read.' });
    expect(await counterValue('reelay_reference_image_fits_total', { outcome: 'unreadable' })).toBe(1);
  });

  it('refuses a reference image URL on a private address', async () => {
    const userId = await newUser(100);
    const reply = await submit(userId, { request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { url: 'http://169.254.169.254/latest/meta-data' } } });
    if (!reply.ok) throw new Error(reply.error.message);
    await validateJob(deps, reply.job.id, {});
    expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
  });
});

describe('validation racing a redelivery', () => {
  it('a failing image check changes nothing once another validation has validated the job', async () => {
    // The image host answers 404 after a pause, during which another delivery validates the job.
    let validateMeanwhile: () => Promise<void> = async () => undefined;
    const server = createServer((_req, res) => void validateMeanwhile().then(() => res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const userId = await newUser(100);
      const reply = await submit(userId, { request: { ...request, model: 'sora-2', durationSeconds: 4, referenceImage: { url: `http://${host}/a.png` } } });
      if (!reply.ok) throw new Error(reply.error.message);
      const stream = jobStreamId(reply.job.id);
      validateMeanwhile = async () => {
        const version = await deps.store.streamVersion(stream);
        await deps.store.append(stream, version, [{ type: 'JobValidated', data: { at: new Date().toISOString(), referenceImage: null } }]);
      };
      await validateJob({ ...deps, imageRules: { ...deps.imageRules, allowHosts: [host] } }, reply.job.id, {});
      expect((await loadJob(deps.store, reply.job.id)).state).toMatchObject({ status: 'validating', validated: true, errorCode: null });
    } finally {
      server.close();
    }
  });
});

describe('validation sweep', () => {
  const logger = createLogger('intake', 'silent');
  const sweep = async (minAgeMs: number, mine: string[]) => (await validateUnvalidated({ ...deps, logger }, minAgeMs, 10_000)).filter((id) => mine.includes(id));

  it('validates the jobs left queued or half-validated (their JobSubmitted delivery dead-lettered), and no others', async () => {
    const newJob = async () => {
      const userId = await newUser(100);
      const reply = await submit(userId);
      if (!reply.ok) throw new Error(reply.error.message);
      return { userId, jobId: reply.job.id };
    };
    const queued = await newJob();
    const halfway = await newJob();
    await deps.store.append(jobStreamId(halfway.jobId), 1, [{ type: 'JobValidationStarted', data: { at: new Date().toISOString() } }]);
    const waitingForSlot = await newJob();
    await validateJob(deps, waitingForSlot.jobId, {});
    const canceled = await newJob();
    await cancelJob(deps, { userId: canceled.userId, jobId: canceled.jobId, correlationId: 'c' }, quiet);
    const mine = [queued, halfway, waitingForSlot, canceled].map((j) => j.jobId);
    // Returns once the job list has caught up with the log as it was (transactions other suites
    // leave open meanwhile included), so it shows all four.
    await rebuildJobView(deps.store);
    expect(await deps.store.dataSource.query(`SELECT 1 FROM job_view WHERE job_id = ANY($1)`, [mine])).toHaveLength(mine.length);

    expect(await sweep(60_000, mine)).toEqual([]); // too recent: the delivery may still come
    expect((await sweep(0, mine)).sort()).toEqual([queued.jobId, halfway.jobId].sort());
    for (const { jobId } of [queued, halfway, waitingForSlot]) expect((await loadJob(deps.store, jobId)).state).toMatchObject({ status: 'validating', validated: true });
    expect((await loadJob(deps.store, canceled.jobId)).state.status).toBe('canceled');

    // The log now says they are validated: a second sweep (another replica) finds nothing of them.
    expect(await sweep(0, mine)).toEqual([]);
  });
});

describe('the intake sweep on several replicas', () => {
  it('runs on one replica at a time: a round that finds another under way skips', async () => {
    let release: () => void = () => undefined;
    const ran: string[] = [];
    const first = onOneReplica(ds, 'intake-sweep', async () => {
      ran.push('first');
      await new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(await onOneReplica(ds, 'intake-sweep', async () => void ran.push('second'))).toBe(false);
    // Another sweep's name is another lock.
    expect(await onOneReplica(ds, 'another-sweep', async () => void ran.push('other'))).toBe(true);
    release();
    await first;
    await onOneReplica(ds, 'intake-sweep', async () => void ran.push('third'));
    expect(ran).toEqual(['first', 'other', 'third']);
  });

  it('keeps a round to one replica also when it outlasts the idle-in-transaction timeout, and ends it without an error', async () => {
    const short = await createDataSource(db.url, { poolSize: 3, idleInTransactionTimeoutMs: 300 }).initialize();
    try {
      let release: () => void = () => undefined;
      const first = onOneReplica(short, 'long-sweep', () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 900));
      expect(await onOneReplica(short, 'long-sweep', async () => undefined)).toBe(false);
      release();
      await expect(first).resolves.toBe(true);
      // The lock connection went back to the pool with the usual timeout in force.
      expect(await short.query(`SHOW idle_in_transaction_session_timeout`)).toEqual([{ idle_in_transaction_session_timeout: '300ms' }]);
    } finally {
      await short.destroy();
    }
  });
});

describe('cancel and credits', () => {
  it('cancels a queued job once, releases its hold, and refuses to cancel a finished job', async () => {
    const userId = await newUser(10);
    const reply = await submit(userId);
    if (!reply.ok) throw new Error(reply.error.message);
    const jobId = reply.job.id;
    expect(await cancelJob(deps, { userId, jobId, correlationId: 'c' }, quiet)).toMatchObject({ ok: true, job: { status: 'canceled' } });
    expect(await cancelJob(deps, { userId, jobId, correlationId: 'c' }, quiet)).toMatchObject({ ok: true, job: { status: 'canceled' } });
    await settleCredits(deps, jobId, {});
    await settleCredits(deps, jobId, {});
    expect(await balance(userId)).toBe(10);
  });

  it('releases the hold before the cancel answers, so the credits can be spent again at once', async () => {
    const userId = await newUser(10);
    const first = await submit(userId);
    if (!first.ok) throw new Error(first.error.message);
    const estimate = 10 - (await balance(userId));
    expect(estimate).toBeGreaterThan(0);
    // Nothing else runs here (no JetStream delivery of JobCanceled): the release is the cancel's own.
    const spend = await newUser(estimate);
    const held = await submit(spend);
    if (!held.ok) throw new Error(held.error.message);
    expect(await submit(spend)).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
    expect(await cancelJob(deps, { userId: spend, jobId: held.job.id, correlationId: 'c' }, quiet)).toMatchObject({ ok: true, job: { status: 'canceled' } });
    expect(await balance(spend)).toBe(estimate);
    expect(await submit(spend)).toMatchObject({ ok: true, job: { status: 'queued' } });
  });

  it('answers not_found for another user’s job', async () => {
    const owner = await newUser(10);
    const reply = await submit(owner);
    if (!reply.ok) throw new Error(reply.error.message);
    expect(await cancelJob(deps, { userId: 'intruder', jobId: reply.job.id, correlationId: 'c' }, quiet)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('settles the hold of a succeeded job exactly once', async () => {
    const userId = await newUser(10);
    const reply = await submit(userId);
    if (!reply.ok) throw new Error(reply.error.message);
    const jobId = reply.job.id;
    await succeed(jobId);
    await Promise.all([settleCredits(deps, jobId, {}), settleCredits(deps, jobId, {})]);
    expect(await balance(userId)).toBe(7);
    const settled = (await deps.store.readStream(creditStreamId(userId))).filter((e) => e.type === 'CreditsSettled');
    expect(settled).toHaveLength(1);
    await expect(cancelJob(deps, { userId, jobId, correlationId: 'c' }, quiet)).resolves.toMatchObject({ ok: false, error: { code: 'invalid_state' } });
  });

  it('settles a job whose end was dead-lettered on intake-credits, from the letter, once', async () => {
    const userId = await newUser(10);
    const reply = await submit(userId);
    if (!reply.ok) throw new Error(reply.error.message);
    const jobId = reply.job.id;
    await succeed(jobId);
    const ended = (await deps.store.readStream(jobStreamId(jobId))).at(-1)!;
    const letters = new DeadLetterStore(ds);
    // An older letter that is no job event is left in place, and must not hide the ones after it.
    const garbage = await letters.record({ consumer: 'intake-credits', subject: 'reelay.events.job.JobSucceeded', payload: 'not json', error: 'invalid payload', deliveries: 1 });
    const letter = await letters.record({ consumer: 'intake-credits', subject: `reelay.events.job.${ended.type}`, eventId: ended.eventId, payload: JSON.parse(JSON.stringify(ended)), error: 'exceeded 200 deliveries', deliveries: 200 });
    expect(await balance(userId)).toBe(7); // held, never settled
    const logger = createLogger('intake', 'silent');

    expect(await settleDeadLettered({ ...deps, deadLetters: letters, logger }, 1)).toEqual([jobId]);
    expect(await balance(userId)).toBe(7);
    expect((await deps.store.readStream(creditStreamId(userId))).filter((e) => e.type === 'CreditsSettled')).toHaveLength(1);
    expect((await letters.get(letter.id))?.replayedAt).toEqual(expect.any(String));
    // Done once; the letter that is no job event is left for an operator.
    expect(await settleDeadLettered({ ...deps, deadLetters: letters, logger })).toEqual([]);
    expect((await letters.get(garbage.id))?.replayedAt).toBeNull();
    await letters.markReplayed(garbage.id);
  });

  it('answers a repeated Idempotency-Key of a settled job with that job, holding nothing again', async () => {
    const userId = await newUser(3);
    const first = await submit(userId, { idempotencyKey: 'settled-then-repeated' });
    if (!first.ok) throw new Error(first.error.message);
    await succeed(first.job.id);
    await settleCredits(deps, first.job.id, {});
    const again = await submit(userId, { idempotencyKey: 'settled-then-repeated' });
    expect(again).toMatchObject({ ok: true, job: { id: first.job.id, status: 'succeeded' } });
    expect((await deps.store.readStream(creditStreamId(userId))).map((e) => e.type)).toEqual(['CreditsGranted', 'CreditsHeld', 'CreditsSettled']);
    expect(await balance(userId)).toBe(0);
  });

  it('answers such a repeat as a replay even when the job was created, finished and settled after its replay check', async () => {
    const userId = await newUser(3);
    const first = await submit(userId, { idempotencyKey: 'settled-during-the-repeat' });
    if (!first.ok) throw new Error(first.error.message);
    await succeed(first.job.id);
    await settleCredits(deps, first.job.id, {});
    const elsewhere = new EventStore(ds);
    const read = elsewhere.readStream.bind(elsewhere);
    let missed = false;
    jest.spyOn(elsewhere, 'readStream').mockImplementation((streamId, ...rest) => {
      if (streamId !== jobStreamId(first.job.id) || missed) return read(streamId, ...rest);
      missed = true; // the replay check runs before the first submit committed
      return Promise.resolve([]);
    });
    expect(await submit(userId, { idempotencyKey: 'settled-during-the-repeat' }, elsewhere)).toMatchObject({ ok: true, job: { id: first.job.id, status: 'succeeded' } });
    expect(missed).toBe(true);
    expect(await balance(userId)).toBe(0);
  });

  it('keeps a long ledger cheap: the folded state holds only jobs in flight, and a restarted intake reads only the events after its snapshot', async () => {
    const userId = await newUser(10_000);
    const at = new Date().toISOString();
    const history: CreditEvent[] = [];
    for (let i = 0; i < 300; i++) {
      history.push({ type: 'CreditsHeld', data: { userId, jobId: `old-${i}`, amount: 3, at } }, { type: 'CreditsSettled', data: { userId, jobId: `old-${i}`, amount: 3, at } });
    }
    await deps.store.append(creditStreamId(userId), 1, history); // 601 events
    const before = new EventStore(ds);
    expect(await submit(userId, {}, before)).toMatchObject({ ok: true });
    await before.snapshots.settled();
    const { state } = loadedLedger(before, userId);
    expect(Object.keys(state.holds)).toHaveLength(1);
    expect(state).toMatchObject({ granted: 10_000, settled: 900, held: 3 });

    const restarted = new EventStore(ds);
    const reads = jest.spyOn(restarted, 'readStream');
    expect(await submit(userId, {}, restarted)).toMatchObject({ ok: true });
    const ledgerReads = reads.mock.calls.filter((c) => c[0] === creditStreamId(userId)).map((c) => c[1]);
    expect(ledgerReads).toEqual([602]); // the snapshot is of the 601 events the first process folded
    expect(await balance(userId)).toBe(10_000 - 900 - 6);
  });
});

describe('deadlines (cancelAfterSeconds)', () => {
  const rowsOf = async (jobIds: string[]) =>
    new Map(((await ds.query(`SELECT job_id, cancel_at FROM job_deadlines WHERE job_id = ANY($1)`, [jobIds])) as { job_id: string; cancel_at: Date }[]).map((r) => [r.job_id, new Date(r.cancel_at).getTime()]));

  it('cancels an unfinished job once its deadline has passed and releases its credits; not before, not one without a deadline, not one that finished first', async () => {
    const userId = await newUser(100);
    const submitted = async (over: Partial<typeof request> & { cancelAfterSeconds?: number }) => {
      const reply = await submit(userId, { request: { ...request, ...over } });
      if (!reply.ok) throw new Error(reply.error.message);
      return reply.job;
    };
    const unreadable = await submitted({ cancelAfterSeconds: 30 });
    const overdue = await submitted({ cancelAfterSeconds: 60 });
    const noDeadline = await submitted({});
    const finishedFirst = await submitted({ cancelAfterSeconds: 60 });
    const later = await submitted({ cancelAfterSeconds: 600 });
    expect(overdue).toMatchObject({ cancelAfterSeconds: 60, cancelAt: new Date(Date.parse(overdue.createdAt) + 60_000).toISOString() });
    await succeed(finishedFirst.id);
    // An event this release cannot read (a newer one wrote it): that job cannot be canceled, the others still are.
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ($1, 2, gen_random_uuid(), 'JobTeleported', 1, '{}')`, [jobStreamId(unreadable.id)]);
    // A row written a moment before the job's logged time is moved to it, not acted on early.
    await ds.query(`UPDATE job_deadlines SET cancel_at = $2 WHERE job_id = $1`, [later.id, new Date(Date.parse(later.createdAt) + 1000)]);
    const createdAt = Date.parse(overdue.createdAt);
    const sweepAt = (secondsLater: number) => cancelOverdueJobs({ ...deps, now: () => new Date(createdAt + secondsLater * 1000), logger: quiet });
    const mine = [unreadable, overdue, noDeadline, finishedFirst, later].map((j) => j.id);
    const canceledOfMine = async (secondsLater: number) => (await sweepAt(secondsLater)).canceled.filter((id) => mine.includes(id));

    expect(await canceledOfMine(20)).toEqual([]);
    expect((await rowsOf([later.id])).get(later.id)).toBe(Date.parse(later.createdAt) + 600_000);
    expect([...(await rowsOf(mine)).keys()].sort()).toEqual([unreadable.id, overdue.id, finishedFirst.id, later.id].sort());
    const before = await balance(userId);
    expect(await canceledOfMine(61)).toEqual([overdue.id]);
    expect(toPublicJob((await loadJob(deps.store, overdue.id)).state)).toMatchObject({
      status: 'canceled',
      message: 'This video was canceled: it was not ready within the 1 minute you allowed.',
      cancellation: { reason: 'deadline' },
    });
    expect(await balance(userId)).toBe(before + 3);
    expect(await counterValue('reelay_deadline_cancels_total')).toBe(1);
    expect(await counterValue('reelay_deadline_cancel_failures_total')).toBeGreaterThanOrEqual(1);
    for (const job of [noDeadline, finishedFirst, later]) expect((await loadJob(deps.store, job.id)).state.status).not.toBe('canceled');
    // Done with: the canceled job's row and the finished one's; the unreadable job's stays to be tried again.
    expect([...(await rowsOf(mine)).keys()].sort()).toEqual([unreadable.id, later.id].sort());
    expect(await canceledOfMine(120)).toEqual([]);
    expect(await balance(userId)).toBe(before + 3);
  });

  it('leaves a job running at a provider to the check polling makes at its deadline, and cancels it unchecked only once the grace after it has passed', async () => {
    const userId = await newUser(100);
    const reply = await submit(userId, { request: { ...request, cancelAfterSeconds: 60 } });
    if (!reply.ok) throw new Error(reply.error.message);
    const job = reply.job;
    await acceptAtProvider(job.id);
    const deadline = Date.parse(job.createdAt) + 60_000;
    const sweepAt = async (ms: number) => (await cancelOverdueJobs({ ...deps, now: () => new Date(ms), logger: quiet })).canceled.includes(job.id);

    expect(await sweepAt(deadline + 1000)).toBe(false);
    expect((await loadJob(deps.store, job.id)).state.status).toBe('running');
    expect((await rowsOf([job.id])).get(job.id)).toBe(deadline + DEADLINE_CHECK_GRACE_MS);
    expect(await sweepAt(deadline + DEADLINE_CHECK_GRACE_MS)).toBe(true);
    expect(toPublicJob((await loadJob(deps.store, job.id)).state)).toMatchObject({ status: 'canceled', cancellation: { reason: 'deadline' } });
  });

  it('does not start the next round at once when every cancel of a full round failed (nothing was put off)', async () => {
    const userId = await newUser(100);
    const reply = await submit(userId, { request: { ...request, cancelAfterSeconds: 30 } });
    if (!reply.ok) throw new Error(reply.error.message);
    await ds.query(`INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data) VALUES ($1, 2, gen_random_uuid(), 'JobTeleported', 1, '{}')`, [jobStreamId(reply.job.id)]);
    // The earliest row of all, so that a round of one at that time takes it alone.
    await ds.query(`UPDATE job_deadlines SET cancel_at = $2 WHERE job_id = $1`, [reply.job.id, new Date(1000)]);
    const round = await cancelOverdueJobs({ ...deps, now: () => new Date(2000), logger: quiet }, 1);
    expect(round).toEqual({ canceled: [], more: false });
    await ds.query(`DELETE FROM job_deadlines WHERE job_id = $1`, [reply.job.id]);
  });

  it('drops a deadline whose job never came to be (its submit did not commit) once it is a minute overdue', async () => {
    const ghost = 'job_01JGHOSTGHOSTGHOSTGHOSTGHO';
    const at = Date.now();
    await recordDeadline(ds, ghost, 'nobody', new Date(at), new Date(at));
    const sweepAt = (ms: number) => cancelOverdueJobs({ ...deps, now: () => new Date(at + ms), logger: quiet });
    await sweepAt(30_000);
    // Kept, and put off: a round right after does not take it again (a batch of such rows would spin).
    expect((await rowsOf([ghost])).get(ghost)).toBeGreaterThan(at + 30_000);
    await sweepAt(61_000);
    expect((await rowsOf([ghost])).has(ghost)).toBe(false);
  });

  it('a retried submit of a job takes over the deadline row its first try left: the earlier time, and no drop of the first try removes it', async () => {
    const jobId = 'job_01JRETRYRETRYRETRYRETRYRET';
    const first = Date.now() - 120_000;
    await recordDeadline(ds, jobId, 'someone', new Date(first + 3_600_000), new Date(first));
    const retry = Date.now();
    await recordDeadline(ds, jobId, 'someone', new Date(retry + 300_000), new Date(retry));
    expect((await rowsOf([jobId])).get(jobId)).toBe(retry + 300_000);
    // The sweep read the first try's row, found no job yet, and drops what it read: not the retry's row.
    await dropDeadline(ds, jobId, new Date(first));
    expect((await rowsOf([jobId])).has(jobId)).toBe(true);
    await dropDeadline(ds, jobId, new Date(retry));
    expect((await rowsOf([jobId])).has(jobId)).toBe(false);
  });

  it('leaves no deadline behind for a submit it refused (402)', async () => {
    const broke = await newUser(0);
    const reply = await submit(broke, { request: { ...request, cancelAfterSeconds: 60 } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'insufficient_credits' } });
    const rows: unknown[] = await ds.query(`SELECT 1 FROM job_deadlines WHERE user_id = $1`, [broke]);
    expect(rows).toEqual([]);
  });
});
