import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { jobStreamId, type RecordedEvent } from '@reelay/contracts';
import { EventStore, handle, openMigrated } from '@reelay/event-store';
import { decideJob, foldRecordedJob, jobDecider, newJobId, type JobState } from '@reelay/job-domain';
import { assertExitedAsAsked, createTestDatabase, startService, TEST_NATS_URL, uniqueNatsPrefix, type ServiceProcess, type TestDatabase } from '@reelay/testing';
import { connectNats, eventStreamName } from '@reelay/messaging';
import { jetstreamManager } from '@nats-io/jetstream';
import type { DataSource } from 'typeorm';
import { dispatchMigrations } from '../../src/migrations';

export interface SimSubmission {
  provider: string;
  taskId: string | null;
  submissionKey: string | null;
  outcome: 'accepted' | 'rejected';
  httpStatus: number;
  /** When the sim received it. */
  at: string;
}

export interface SimStats {
  submissions: number;
  accepted: number;
  rejectedAtCapacity: number;
  inFlight: number;
  maxInFlight: number;
}

const fold = { evolve: jobDecider.evolve, initialState: jobDecider.initialState };

export const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/**
 * An uploaded image as the gateway leaves it in storage (LocalStorage's layout): the bytes, and
 * unless `described` is false, the description beside them. Returns the description's path.
 */
export async function writeAsset(storageDir: string, assetId: string, described = true, bytes: Buffer = PNG_1x1): Promise<string> {
  const path = join(storageDir, 'assets', assetId);
  await mkdir(join(storageDir, 'assets'), { recursive: true });
  await writeFile(path, bytes);
  const meta = `${path}.meta.json`;
  if (described) await writeFile(meta, JSON.stringify({ contentType: 'image/png', metadata: { userId: 'user-dispatch-test' } }));
  return meta;
}

/** PostgreSQL (own database), a NATS prefix, the provider simulator and dispatch processes. */
export class DispatchHarness {
  readonly prefix = uniqueNatsPrefix('dsp');
  readonly dispatchers: ServiceProcess[] = [];
  db!: TestDatabase;
  dataSource!: DataSource;
  store!: EventStore;
  sim!: ServiceProcess;
  private readonly servers: Server[] = [];
  /** Dispatches started to kill themselves (crash tests): their exit is no failure. */
  private readonly crashing = new Set<ServiceProcess>();

  async start(simEnv: Record<string, string> = {}): Promise<this> {
    this.db = await createTestDatabase('dispatch');
    this.dataSource = await openMigrated(this.db.url, { poolSize: 4, migrations: dispatchMigrations });
    this.store = new EventStore(this.dataSource);
    this.sim = await startService('provider-sim', { SIM_REQUIRE_AUTH: 'false', ...simEnv }, 'PORT');
    await waitUntil(async () => (await fetch(`${this.sim.url}/_sim/health`).catch(() => null))?.ok === true, 15_000, 'provider-sim health');
    return this;
  }

  async startDispatch(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const proc = await startService('dispatch', {
      DATABASE_URL: this.db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_PREFIX: this.prefix,
      PROVIDER_SIM_URL: this.sim.url,
      DB_POOL_SIZE: '4',
      DISPATCH_SLOT_SWEEP_MS: '0',
      // Every start updates the shared consumers' ack wait. A message a killed process held comes
      // back after it, so the default (60 s) would hold a consumer's ack floor, which tests wait on, for a minute.
      DISPATCH_ACK_WAIT_MS: '2000',
      ...env,
    });
    this.dispatchers.push(proc);
    if (env.DISPATCH_CRASH_AFTER_SUBMIT === '1') this.crashing.add(proc);
    await proc.ready(30_000);
    return proc;
  }

  /**
   * A job as intake leaves it: submitted, validation started, validated (the relay publishes them);
   * `then(jobId)` gives events appended with them, as if dispatch had worked on the job already.
   */
  async createValidatedJob(opts: {
    model: string;
    provider: string;
    prompt: string;
    durationSeconds?: number;
    imageUrl?: string;
    assetId?: string;
    userId?: string;
    then?: (jobId: string, at: string) => Parameters<EventStore['append']>[2];
  }): Promise<string> {
    const image = opts.assetId ? { assetId: opts.assetId } : opts.imageUrl ? { url: opts.imageUrl } : null;
    const jobId = newJobId();
    const at = new Date().toISOString();
    await this.store.append(jobStreamId(jobId), 0, [
      {
        type: 'JobSubmitted',
        data: {
          jobId,
          userId: opts.userId ?? 'user-dispatch-test',
          model: opts.model,
          provider: opts.provider,
          prompt: opts.prompt,
          negativePrompt: null,
          aspectRatio: '16:9',
          durationSeconds: opts.durationSeconds ?? 5,
          resolution: null,
          seed: null,
          referenceImage: image,
          webhookUrl: null,
          metadata: {},
          creditsEstimated: 25,
          requestHash: 'test',
          at,
        },
      },
      { type: 'JobValidationStarted', data: { at } },
      { type: 'JobValidated', data: { at, referenceImage: image ? { contentType: 'image/png', bytes: 68, width: 1, height: 1 } : null } },
      ...(opts.then?.(jobId, at) ?? []),
    ]);
    return jobId;
  }

  async events(jobId: string): Promise<RecordedEvent[]> {
    return this.store.readStream(jobStreamId(jobId));
  }

  async job(jobId: string): Promise<JobState> {
    return foldRecordedJob(await this.events(jobId)).state;
  }

  async waitForJob(jobId: string, done: (job: JobState) => boolean, timeoutMs = 20_000): Promise<JobState> {
    let last: JobState | undefined;
    await waitUntil(async () => done((last = await this.job(jobId))), timeoutMs, () => `job ${jobId} (last status ${last?.status})`, () => this.logs());
    return last!;
  }

  /** What polling would do on success: record the output (the slot is then released by dispatch). */
  async succeed(jobId: string): Promise<void> {
    const output = { url: 'file://out.mp4', contentType: 'video/mp4', bytes: 1, durationSeconds: 5, width: 1280, height: 720, sha256: 'x' };
    await handle(this.store, jobStreamId(jobId), fold, (s) => decideJob({ type: 'Succeed', output, now: new Date() }, s));
  }

  async cancel(jobId: string): Promise<void> {
    await handle(this.store, jobStreamId(jobId), fold, (s) => decideJob({ type: 'Cancel', now: new Date() }, s));
  }

  async submissions(provider?: string): Promise<SimSubmission[]> {
    const res = await fetch(`${this.sim.url}/_sim/submissions${provider ? `?provider=${provider}` : ''}`);
    return (await res.json()) as SimSubmission[];
  }

  async stats(): Promise<Record<string, SimStats>> {
    return (await (await fetch(`${this.sim.url}/_sim/stats`)).json()) as Record<string, SimStats>;
  }

  async slots(): Promise<{ job_id: string; provider: string }[]> {
    return this.dataSource.query(`SELECT job_id, provider FROM provider_slots ORDER BY acquired_at`);
  }

  /** A provider answering every request with `status` (503 by default), recording submission keys and counting requests. */
  async failingProvider(status = 503, body: unknown = { detail: 'Service Unavailable' }): Promise<{ url: string; keys: string[]; requests: () => number }> {
    const keys: string[] = [];
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      const key = req.headers['x-reelay-submission-key'];
      if (typeof key === 'string') keys.push(key);
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.servers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, keys, requests: () => requests };
  }

  /** An HTTP server answering GET /cat.png with a 1-pixel PNG, counting the requests. */
  /** Serves a 1x1 PNG, typed `contentType` (what a host says it is, which need not be right). */
  /** A host serving an image (`serve` changes what it answers from then on, as a host whose file changed). */
  async imageHost(contentType = 'image/png'): Promise<{ url: string; host: string; requests: () => number; serve: (type: string, body: Buffer) => void }> {
    let requests = 0;
    let answer: { type: string; body: Buffer } = { type: contentType, body: PNG_1x1 };
    const server = createServer((req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': answer.type, 'content-length': answer.body.length }).end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.servers.push(server);
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: `http://${host}/cat.png`, host, requests: () => requests, serve: (type, body) => (answer = { type, body }) };
  }

  logs(): string {
    return this.dispatchers.map((d, i) => `--- dispatch #${i}\n${d.output().slice(-4000)}`).join('\n');
  }

  /**
   * Whether the consumer `durable` (one durable per event type, `<durable>-<Type>`)
   * has handled and acknowledged the newest `eventType` event on the bus. With `jobId`, that event
   * must be the job's: until the relay has published it, the newest is an earlier test's, handled long ago.
   */
  async handled(durable: string, eventType: string, jobId?: string): Promise<boolean> {
    const nc = await connectNats(TEST_NATS_URL, 'dispatch-test-consumers');
    try {
      const jsm = await jetstreamManager(nc);
      const stream = eventStreamName(this.prefix);
      const subject = `${this.prefix}.events.job.${eventType}`;
      const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
      if (!last || (jobId !== undefined && !last.string().includes(jobId))) return false;
      for await (const c of jsm.consumers.list(stream)) {
        if (!c.name.startsWith(durable)) continue;
        const subjects = c.config.filter_subjects ?? [c.config.filter_subject];
        if (subjects.includes(subject) && c.ack_floor.stream_seq >= last.seq) return true;
      }
      return false;
    } finally {
      await nc.close();
    }
  }

  /**
   * Waits until `handled(durable, eventType)`. A dispatch an earlier test stopped just as the server
   * sent it an event of that type never handles it, and the consumer's ack floor stays behind that
   * event until the server sends it again after ack_wait (30 s for the slot release): the wait
   * allows for one such redelivery.
   */
  async waitHandled(durable: string, eventType: string, what: string, jobId?: string): Promise<void> {
    await waitUntil(() => this.handled(durable, eventType, jobId), 45_000, what, () => this.logs());
  }

  /** Stops every dispatch still running: one a failed test left behind would take the next tests' jobs. */
  async stopDispatchers(): Promise<void> {
    await Promise.all(this.dispatchers.map((d) => d.kill('SIGTERM')));
  }

  async close(): Promise<void> {
    await this.stopDispatchers();
    await this.sim?.kill('SIGTERM');
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    const nc = await connectNats(TEST_NATS_URL, 'dispatch-test-cleanup');
    try {
      await (await jetstreamManager(nc)).streams.delete(eventStreamName(this.prefix)).catch(() => undefined);
    } finally {
      await nc.close();
    }
    await this.db?.drop();
    assertExitedAsAsked([...this.dispatchers.filter((d) => !this.crashing.has(d)), ...(this.sim ? [this.sim] : [])]);
  }
}

/** `what` names the wait in the timeout's message; a function is read at the timeout (e.g. the last status seen). */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string | (() => string), context?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}${context ? `\n${context()}` : ''}`);
}

export const eventTypes = (events: RecordedEvent[]) => events.map((e) => e.type);
