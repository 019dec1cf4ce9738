import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@reelay/service-kit';
import { assertExitedAsAsked, createTestDatabase, startService, TEST_NATS_URL, uniqueNatsPrefix, WORKSPACE_ROOT, type ServiceProcess, type TestDatabase } from '@reelay/testing';
import { createGatewayApp, type GatewayApp } from '../src/app';
import { GatewayConfig } from '../src/config/gateway-config';

/** The whole pipeline for the gateway's end-to-end tests: the services as processes, the gateway in-process. */
export interface E2EStack {
  /** The gateway's base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  gateway: GatewayApp;
  /** Where the services keep uploads and outputs (STORAGE_DIR). */
  storageDir: string;
  /** Makes a user with an API key and credits through the operator CLI. */
  createKey(userId: string, credits?: number): Promise<string>;
  stop(): Promise<void>;
}

const SERVICES = ['intake', 'dispatch', 'polling', 'notification'] as const;

/**
 * `serviceEnv`: more environment for the services run as processes (intake, dispatch, polling,
 * notification; its PROVIDERS_ENABLED, `local` unless given, is the gateway's too); `simEnv`: for
 * the provider simulator, which runs the local renderer.
 */
export async function startE2EStack(name: string, gatewayEnv: Record<string, string> = {}, serviceEnv: Record<string, string> = {}, simEnv: Record<string, string> = {}): Promise<E2EStack> {
  const db: TestDatabase = await createTestDatabase(name);
  const dir = await mkdtemp(join(tmpdir(), `reelay-${name}-`));
  const processes: ServiceProcess[] = [];
  let gateway: GatewayApp | undefined;
  const stop = async () => {
    await gateway?.app.close();
    await Promise.all(processes.map((p) => p.kill()));
    await db.drop();
    await rm(dir, { recursive: true, force: true });
    assertExitedAsAsked(processes);
  };
  try {
    const common = {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_PREFIX: uniqueNatsPrefix(name.replace(/[^a-z0-9]/g, '')),
      STORAGE_DIR: join(dir, 'storage'),
      LOCAL_RENDER_DIR: join(dir, 'renders'),
      PROVIDERS_ENABLED: serviceEnv.PROVIDERS_ENABLED ?? 'local',
      WEBHOOK_MASTER_SECRET: 'e2e-master-secret-0123456789',
      DB_POOL_SIZE: '3',
      POLL_SCHEDULE_MS: '200,400,700,1000,1500,2000,3000,4000',
      POLL_DELAYED_INTERVAL_MS: '500',
      POLL_TICK_MS: '50',
      LOG_LEVEL: 'warn',
    };
    const sim = await startService('provider-sim', { ...common, ...simEnv }, 'PORT');
    processes.push(sim);
    for (let i = 0; !(await fetch(`${sim.url}/_sim/health`).then((r) => r.ok, () => false)); i++) {
      if (i > 200 || sim.child.exitCode !== null) throw new Error(`provider-sim did not start:\n${sim.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const env = { ...common, PROVIDER_SIM_URL: sim.url };
    // The in-process gateway builds its catalog from process.env, like the real one.
    Object.assign(process.env, { PROVIDER_SIM_URL: sim.url, PROVIDERS_ENABLED: common.PROVIDERS_ENABLED });
    gateway = await createGatewayApp(GatewayConfig.parse({ ...env, COMMAND_TIMEOUT_MS: '10000', SSE_RECHECK_MS: '500', ...gatewayEnv }), createLogger('gateway', 'silent'));
    await gateway.app.listen(0, '127.0.0.1');
    const url = (await gateway.app.getUrl()).replace('[::1]', '127.0.0.1');
    for (const service of SERVICES) processes.push(await startService(service, { ...env, ...serviceEnv }));
    await Promise.all(processes.map((p) => (p === sim ? undefined : p.ready(60_000))));
    const cli = join(WORKSPACE_ROOT, 'apps/ops-cli/dist/main.js');
    return {
      url,
      gateway,
      storageDir: common.STORAGE_DIR,
      stop,
      async createKey(userId, credits = 1000) {
        const { stdout } = await promisify(execFile)(process.execPath, [cli, 'keys', 'create', '--user', userId, '--credits', String(credits)], { env: { ...process.env, DATABASE_URL: db.url } });
        return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { key: string }).key;
      },
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
