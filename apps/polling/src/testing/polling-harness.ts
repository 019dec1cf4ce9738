import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { isTerminal, type JobStatus } from '@reelay/contracts';
import { createDataSource, EventStore, runMigrations } from '@reelay/event-store';
import { newJobId, type JobState } from '@reelay/job-domain';
import { connectNats, eventStreamName, type NatsConnection } from '@reelay/messaging';
import { createAdapters, type ProviderAdapter, type ProviderSubmitRequest } from '@reelay/providers';
import { createLogger, createMetrics } from '@reelay/service-kit';
import { createTestDatabase, startService, TEST_NATS_URL, type ServiceProcess, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { POLLING_MIGRATIONS } from '../migrations';
import type { PollingDeps } from '../polling.deps';
import { PollScheduleRepository } from '../schedule/poll-schedule.repository';
import { ProviderPauses } from '../schedule/provider-pauses';
import type { SchedulePolicy } from '../schedule/schedule-policy';
import { outputStorage } from '../shared/output-storage';
import { createPollingMetrics } from '../shared/polling-metrics';
import { decideOnJob, loadJob } from '../shared/job-stream';

export const MODELS: Record<string, string> = {
  seedance: 'seedance-1-0-pro-250528', openai: 'sora-2', runway: 'gen4.5', luma: 'ray-2', fal: 'fal-ai/kling-video/v2.1/pro/text-to-video', kling: 'kling-v2-1-master',
};

/** provider-sim as a real process (apps/provider-sim/dist, built beforehand). */
export async function startSim(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const sim = await startService('provider-sim', { SIM_CLOCK: 'checks', SIM_SUCCESS_AFTER: '2', ...env }, 'PORT');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (sim.child.exitCode !== null) throw new Error(`provider-sim exited:\n${sim.output()}`);
    const ok = await fetch(`${sim.url}/_sim/health`).then((r) => r.ok, () => false);
    if (ok) return sim;
    if (Date.now() > deadline) throw new Error(`provider-sim not ready:\n${sim.output()}`);
    await sleep(50);
  }
}

export interface SimTaskView {
  provider: string;
  id: string;
  phase: string;
  checks: number;
  deleted: boolean;
}

export async function simTask(sim: ServiceProcess, provider: string, id: string): Promise<SimTaskView | undefined> {
  const tasks = (await (await fetch(`${sim.url}/_sim/tasks`)).json()) as SimTaskView[];
  return tasks.find((t) => t.provider === provider && t.id === id);
}

export interface PgHarness {
  db: TestDatabase;
  ds: DataSource;
  store: EventStore;
  schedule: PollScheduleRepository;
  close(): Promise<void>;
}

export async function migratedPg(label: string, migrate = true): Promise<PgHarness> {
  const db = await createTestDatabase(label);
  const ds = await createDataSource(db.url, { poolSize: 6, migrations: POLLING_MIGRATIONS }).initialize();
  if (migrate) await runMigrations(ds);
  return {
    db,
    ds,
    store: new EventStore(ds),
    schedule: new PollScheduleRepository(ds),
    async close() {
      await ds.destroy();
      await db.drop();
    },
  };
}

export async function tempDir(label: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `reelay-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function simAdapters(sim: ServiceProcess): Map<string, ProviderAdapter> {
  return createAdapters({ PROVIDER_SIM_URL: sim.url, PROVIDERS_ENABLED: 'seedance,openai,runway,luma,fal,kling', FAL_WEBHOOKS: '1' });
}

/** Deps for running polling's use cases in the test process. */
export function pollingDeps(pg: PgHarness, adapters: Map<string, ProviderAdapter>, storageDir: string, policies: Record<string, SchedulePolicy>, fallback: SchedulePolicy): PollingDeps {
  const metrics = createPollingMetrics(createMetrics('polling-test'), () => pg.schedule.count());
  return {
    store: pg.store,
    schedule: pg.schedule,
    adapters,
    storage: outputStorage(storageDir, metrics),
    policyFor: (p) => policies[p] ?? fallback,
    outputRules: { maxBytes: 50 * 1024 * 1024, minBytes: 1024, downloadTimeoutMs: 10_000 },
    outputRetentionMs: null,
    checkTimeoutMs: 5000,
    pauses: new ProviderPauses(createLogger('polling-test', 'silent')),
    metrics,
    logger: createLogger('polling-test', 'silent'),
  };
}

/**
 * A job as dispatch leaves it: submitted, validated, submission intended and accepted by the
 * provider with a real task created at the simulator through the adapter.
 */
export async function acceptedJob(
  store: EventStore,
  adapter: ProviderAdapter,
  prompt: string,
  overrides: Partial<ProviderSubmitRequest> = {},
  /** The user cancels while the submit runs: the acceptance is recorded as JobProviderAcceptedAfterCancel. */
  opts: { canceledDuringSubmit?: boolean; cancelAfterSeconds?: number } = {},
): Promise<{ jobId: string; taskId: string; acceptedAt: string }> {
  const jobId = newJobId();
  const provider = adapter.name;
  const model = MODELS[provider];
  const durationSeconds = provider === 'openai' ? 4 : 5;
  const meta = { correlationId: `corr-${jobId}`, userId: 'user_polling' };
  const run = (cmd: Parameters<typeof decideOnJob>[2]) => decideOnJob(store, jobId, cmd, meta);
  await run({
    type: 'SubmitJob',
    data: {
      jobId, userId: 'user_polling', model, provider, prompt, negativePrompt: null, aspectRatio: '16:9', durationSeconds, resolution: null,
      seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 10, requestHash: `hash-${jobId}`,
      ...(opts.cancelAfterSeconds ? { cancelAfterSeconds: opts.cancelAfterSeconds } : {}),
    },
    now: new Date(),
  });
  await run({ type: 'StartValidation', now: new Date() });
  await run({ type: 'CompleteValidation', referenceImage: null, now: new Date() });
  const submissionKey = `${jobId}-1`;
  await run({ type: 'RecordSubmissionIntent', provider, attempt: 1, submissionKey, now: new Date() });
  const { providerTaskId } = await adapter.submit({ model, prompt, durationSeconds, aspectRatio: '16:9', submissionKey, ...overrides });
  if (opts.canceledDuringSubmit) await run({ type: 'Cancel', now: new Date() });
  const now = new Date();
  await run({ type: 'RecordProviderAccepted', provider, providerTaskId, now });
  return { jobId, taskId: providerTaskId, acceptedAt: now.toISOString() };
}

export async function waitForJob(store: EventStore, jobId: string, until: (job: JobState) => boolean, timeoutMs = 15_000): Promise<JobState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await loadJob(store, jobId);
    if (until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} (${job.errorCode ?? '-'}) after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Waits until `probe` resolves truthy. */
export async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await probe()); await sleep(25)) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
  }
}

export const finished = (job: JobState) => isTerminal(job.status);
export const hasStatus = (status: JobStatus) => (job: JobState) => job.status === status;

export async function statusesOf(store: EventStore, jobId: string): Promise<string[]> {
  const events = await store.readStream(`job-${jobId}`);
  return events.map((e) => e.type);
}

export async function natsFor(label: string): Promise<NatsConnection> {
  return connectNats(TEST_NATS_URL, label);
}

/** Removes the JetStream stream a test prefix created (consumers go with it). */
export async function dropEventStream(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(eventStreamName(prefix)).catch(() => undefined);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
