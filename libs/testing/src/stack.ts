import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventStreamName } from '@reelay/messaging';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertExitedAsAsked, stablePort, startService, WORKSPACE_ROOT, type ServiceProcess } from './service-process';
import { createTestDatabase, type TestDatabase } from './test-database';
import { TEST_NATS_URL, uniqueNatsPrefix } from './test-nats';

export interface StackOptions {
  /** Replicas per worker service (default 1). */
  replicas?: Partial<Record<'intake' | 'dispatch' | 'polling' | 'notification', number>>;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for the provider simulator (e.g. SIM_MAX_IN_FLIGHT). */
  simEnv?: Record<string, string>;
  label?: string;
  /** A NATS server of the caller's own (a test that restarts it); the machine's test NATS by default. */
  natsUrl?: string;
  /** A PostgreSQL server of the caller's own (a test that restarts it), by its superuser URL. */
  databaseAdminUrl?: string;
}

export interface Stack {
  readonly env: Record<string, string>;
  readonly db: TestDatabase;
  readonly gateway: ServiceProcess;
  readonly sim: ServiceProcess;
  readonly services: ServiceProcess[];
  /** An API key for a new user, with credits. */
  createUser(userId: string, credits?: number): string;
  cli(...args: string[]): { code: number | null; out: string; err: string };
  /** Starts one more process of a service (a replica, or a restart after a kill; a gateway comes back on the same port). */
  start(app: string): Promise<ServiceProcess>;
  /**
   * Stops every process, drops the database, NATS stream and storage, then fails if a process
   * ended on its own during the suite (a replica's crash left the others to do its work) or did not
   * stop cleanly.
   */
  stop(): Promise<void>;
}

const WORKERS = ['intake', 'dispatch', 'polling', 'notification'] as const;

/**
 * The whole system as real processes on the real PostgreSQL and NATS: provider simulator,
 * the five services (worker replicas as asked), a fresh database and a private NATS prefix.
 * Polls run on a short schedule so tests finish in seconds.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase(opts.label ?? 'stack', opts.databaseAdminUrl);
  const prefix = uniqueNatsPrefix(opts.label ?? 'stack');
  const storage = mkdtempSync(join(tmpdir(), 'reelay-stack-'));
  const services: ServiceProcess[] = [];
  const sim = await startService('provider-sim', { LOCAL_RENDER_DIR: join(storage, 'renders'), SIM_CLOCK: 'checks', ...opts.simEnv }, 'PORT');
  services.push(sim);
  await sim.ready(30_000, '/_sim/health');
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    NATS_URL: opts.natsUrl ?? TEST_NATS_URL,
    NATS_PREFIX: prefix,
    STORAGE_DIR: join(storage, 'storage'),
    PROVIDER_SIM_URL: sim.url,
    WEBHOOK_MASTER_SECRET: 'test-master-secret-0123456789',
    POLL_SCHEDULE_MS: '100,200,300,400,500',
    // The local renderer really renders (about a second on a busy machine): give it time before `delayed`.
    POLL_SCHEDULE_MS_LOCAL: '100,250,500,1000,2000,4000,8000',
    POLL_DELAYED_INTERVAL_MS: '300',
    POLL_TICK_MS: '50',
    DISPATCH_RETRY_BASE_MS: '100',
    DISPATCH_RATE_LIMIT_DEFAULT_WAIT_MS: '200',
    DISPATCH_CAPACITY_WAIT_MS: '200',
    WEBHOOK_BACKOFF_BASE_MS: '200',
    WEBHOOK_TICK_MS: '100',
    LOG_LEVEL: 'warn',
    // Fixed for the stack's life, so a gateway killed and started again keeps its URL.
    GATEWAY_PORT: String(await stablePort()),
    ...opts.env,
  };
  const start = async (app: string) => {
    const p = await startService(app, env);
    services.push(p);
    await p.ready(30_000);
    return p;
  };
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(WORKSPACE_ROOT, 'apps/ops-cli/dist/main.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };
  try {
    // The first process migrates; the others then start in parallel.
    await start('intake');
    await Promise.all(
      WORKERS.flatMap((w) => Array.from({ length: (opts.replicas?.[w] ?? 1) - (w === 'intake' ? 1 : 0) }, () => start(w))),
    );
    const gateway = await start('gateway');
    return {
      env,
      db,
      gateway,
      sim,
      services,
      cli,
      start,
      createUser(userId: string, credits = 1000) {
        const r = cli('keys', 'create', '--user', userId, '--credits', String(credits));
        if (r.code !== 0) throw new Error(`keys create failed: ${r.err}`);
        return JSON.parse(r.out).key as string;
      },
      async stop() {
        await Promise.all(services.map((s) => s.kill('SIGTERM')));
        const nc = await connect({ servers: env.NATS_URL });
        await (await jetstreamManager(nc)).streams.delete(eventStreamName(prefix)).catch(() => false);
        await nc.close();
        await db.drop();
        rmSync(storage, { recursive: true, force: true });
        assertExitedAsAsked(services);
      },
    };
  } catch (err) {
    await Promise.all(services.map((s) => s.kill('SIGKILL')));
    await db.drop();
    throw err;
  }
}
