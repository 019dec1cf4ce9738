import { Catalog } from '@reelay/catalog';
import { commandSubjects, creditStreamId, jobStreamId, type CommandReply } from '@reelay/contracts';
import { creditsDecider } from '@reelay/job-domain';
import { request } from '@reelay/messaging';
import { connectInfra, createLogger, type ServiceInfra } from '@reelay/service-kit';
import { LocalStorage } from '@reelay/storage';
import { createTestDatabase, TEST_NATS_URL, uniqueNatsPrefix, type TestDatabase } from '@reelay/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntakeCommandServer } from './command-server';
import type { IntakeDeps } from './intake.deps';
import { loadJob } from './shared/job-stream';
import { ValidateAfterSubmit } from './validate-job/validate-after-submit';
import { ffmpegImageFitter } from './validate-job/fit-reference-image';
import { INTAKE_MIGRATIONS } from './migrations';

// The command server as intake runs it, on real NATS and PostgreSQL, but with no JetStream consumer
// and no relay: whatever happens to a job after the reply is the command server's own doing.
let db: TestDatabase;
let infra: ServiceInfra;
let server: IntakeCommandServer;
let prefix: string;
let user = 0;

const body = { model: 'local-preview', prompt: 'a red fox running through snow', aspectRatio: '16:9', durationSeconds: 3 };

beforeAll(async () => {
  db = await createTestDatabase('intake-commands');
  prefix = uniqueNatsPrefix('intakecmd');
  const logger = createLogger('intake', 'silent');
  const config = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, NATS_PREFIX: prefix, NATS_REPLICAS: 1, LOG_LEVEL: 'silent' as const, DB_POOL_SIZE: 10 };
  infra = await connectInfra({ name: 'intake-test', config, logger, relay: false, migrations: INTAKE_MIGRATIONS });
  const deps: IntakeDeps = {
    store: infra.store,
    storage: new LocalStorage(mkdtempSync(join(tmpdir(), 'reelay-intake-cmd-'))),
    catalog: new Catalog(['local', 'openai'], undefined, { simulated: ['openai'] }),
    blockedTerms: ['forbidden thing'],
    imageRules: { maxBytes: 1024 * 1024, timeoutMs: 2000, minSide: 64, maxSide: 4096, allowHosts: [] },
    fitImage: ffmpegImageFitter(1),
    now: () => new Date(),
  };
  server = new IntakeCommandServer(deps, { nc: infra.nc, prefix, logger }, new ValidateAfterSubmit(deps, logger));
  server.onModuleInit();
});

afterAll(async () => {
  await server?.beforeApplicationShutdown();
  await infra?.close();
  await db?.drop();
});

async function submit(body: Record<string, unknown>): Promise<CommandReply> {
  const userId = `user${++user}`;
  const grant = creditsDecider.decide({ type: 'GrantCredits', userId, amount: 100, now: new Date() }, creditsDecider.initialState());
  await infra.store.append(creditStreamId(userId), 'any', grant);
  return request<CommandReply>(infra.nc, commandSubjects(prefix).submitJob, { userId, request: body, correlationId: `c${user}` }, 5000);
}

async function eventTypes(jobId: string): Promise<string[]> {
  return (await infra.store.readStream(jobStreamId(jobId))).map((e) => e.type);
}

/** The job's events once its stream has `count` of them, or what it has after `ms`. */
async function eventsOnceThere(jobId: string, count: number, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const types = await eventTypes(jobId);
    if (types.length >= count || Date.now() > deadline) return types;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('intake command server', () => {
  it('answers a submit with the queued job, then validates it without waiting for the JobSubmitted delivery', async () => {
    const reply = await submit(body);
    if (!reply.ok) throw new Error(`submit refused: ${JSON.stringify(reply)}`);
    expect(reply.job).toMatchObject({ status: 'queued', version: 1 });
    expect(await eventsOnceThere(reply.job.id, 3)).toEqual(['JobSubmitted', 'JobValidationStarted', 'JobValidated']);
    expect((await loadJob(infra.store, reply.job.id)).state).toMatchObject({ status: 'validating', validated: true });
  });

  it('fails a prompt that breaks a moderation rule the same way', async () => {
    const reply = await submit({ ...body, prompt: 'please render a forbidden thing' });
    if (!reply.ok) throw new Error(`submit refused: ${JSON.stringify(reply)}`);
    expect(await eventsOnceThere(reply.job.id, 3)).toEqual(['JobSubmitted', 'JobValidationStarted', 'JobFailed']);
  });

  it('leaves a job with a reference image to the delivery, which fetches the image', async () => {
    const reply = await submit({ ...body, model: 'sora-2', durationSeconds: 4, referenceImage: { url: 'https://example.com/ref.png' } });
    if (!reply.ok) throw new Error(`submit refused: ${JSON.stringify(reply)}`);
    // Given time to act, the command server has not touched it.
    expect(await eventsOnceThere(reply.job.id, 2, 500)).toEqual(['JobSubmitted']);
  });
});
