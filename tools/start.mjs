#!/usr/bin/env node
// `npm start`: the whole system on this machine — five services, the provider simulator and the
// local renderer — on PostgreSQL and NATS from DATABASE_URL / NATS_URL (which must then work), else
// on the default local ports, falling back to an embedded PostgreSQL and a local nats-server. Ctrl-C
// stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from './lib/embedded-postgres.mjs';
import { LAUNCHER, runningLauncher, stopLeftovers } from './lib/leftovers.mjs';
import { canConnect, chooseServer, ensureDependencies, natsProblem, postgresLoginRefused, ROOT, run } from './lib/preflight.mjs';

const DATA = join(ROOT, '.data');
// Every process we start, as `<name> <pid>` lines, so a crashed launcher's leftovers can be found.
const PIDS = join(DATA, 'pids');
/** Where the running stack's PostgreSQL and NATS are, for the operator CLI (tools/reelay.mjs). */
const RUNNING = join(DATA, 'running.json');
/** Services and the simulator: stopped first, all at once. */
const services = [];
/** NATS and PostgreSQL: stopped after the services, in reverse start order. */
const infra = [];
let stopping = false;

const log = (msg) => console.log(`\x1b[36m[reelay]\x1b[0m ${msg}`);

function persistentSecret(file, make) {
  const path = join(DATA, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/reelay';
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Set to an address of the user's choosing: the default written out (README's "run one service" exports it) is no choice. */
const named = (env, url, byDefault) => Boolean(process.env[env]) && url !== byDefault;

async function ensurePostgres() {
  if (process.env.EMBEDDED_PG === '1') {
    if (process.env.DATABASE_URL) throw new Error('EMBEDDED_PG=1 and DATABASE_URL are both set: unset one of them');
    log('EMBEDDED_PG=1: the embedded PostgreSQL is used, whatever answers at the default address');
    return startEmbedded();
  }
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const choice = await chooseServer({ env: 'DATABASE_URL', url, named: named('DATABASE_URL', url, DEFAULT_DATABASE_URL), reachable: () => canConnect(url, 5432), problem: () => postgresLoginRefused(url) });
  if (choice.use) return choice.use;
  log(`PostgreSQL: ${choice.own}; using an embedded one instead`);
  return startEmbedded();
}

async function startEmbedded() {
  const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
  log(`starting an embedded PostgreSQL on port ${port} (data in .data/pg)`);
  const password = persistentSecret('pg-password', () => randomBytes(18).toString('base64url'));
  await startEmbeddedPostgres({
    dir: join(DATA, 'pg'),
    port,
    password,
    logFile: join(DATA, 'postgres.log'),
    onStart: (pg) => {
      track('postgres', pg.child);
      infra.push({ name: 'postgres', stop: () => pg.stop() });
    },
  });
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/reelay`;
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** nats-server on PATH, or where Debian's package puts it (/usr/sbin is not on a user's PATH). */
function natsServerBinary() {
  if (onPath('nats-server')) return 'nats-server';
  return ['/usr/sbin/nats-server', '/usr/local/sbin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p)) ?? null;
}

async function ensureNats() {
  const url = process.env.NATS_URL ?? DEFAULT_NATS_URL;
  // The default port may hold a server without JetStream (Debian's nats-server service).
  const problem = async () => {
    const why = await natsProblem(url);
    return why && `${why}; reelay needs JetStream (nats-server -js) and a login it accepts`;
  };
  const choice = await chooseServer({ env: 'NATS_URL', url, named: named('NATS_URL', url, DEFAULT_NATS_URL), reachable: () => canConnect(url, 4222), problem });
  if (choice.use) return choice.use;
  log(`NATS: ${choice.own}, so a nats-server of our own is started`);
  const bin = natsServerBinary();
  if (!bin) {
    throw new Error(
      `NATS with JetStream is not reachable at ${url} and nats-server is not installed. Either:\n` +
        '  - install it: sudo apt-get install nats-server   (then run npm start again), or\n' +
        '  - run it in Docker: docker run -d -p 4222:4222 nats:2.10-alpine -js,\n' +
        '  - or point NATS_URL at a NATS server with JetStream enabled.',
    );
  }
  const port = Number(process.env.LOCAL_NATS_PORT ?? 4223);
  const natsUrl = `nats://127.0.0.1:${port}`;
  // Another checkout's server there would share its streams with this stack.
  if (await canConnect(natsUrl, port)) throw new Error(`port ${port} is already in use (another reelay's NATS?): stop it, or set LOCAL_NATS_PORT to a free port.`);
  const logFile = join(DATA, 'nats.log');
  log(`starting nats-server with JetStream on port ${port} (data in .data/nats, log in .data/nats.log)`);
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(DATA, 'nats'), '-l', logFile], { stdio: 'ignore', detached: true });
  track('nats', child);
  infra.push({ name: 'nats', stop: () => stopChild(child, 'SIGTERM', 10_000) });
  for (let i = 0; i < 100 && child.exitCode === null && !(await canConnect(natsUrl, port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (child.exitCode !== null || !(await canConnect(natsUrl, port))) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '(no log)';
    throw new Error(`nats-server did not start on port ${port}:\n${tail}`);
  }
  return natsUrl;
}

function track(name, child) {
  appendFileSync(PIDS, `${name} ${child.pid}\n`);
}

// Children run in their own process groups (detached): a terminal's Ctrl-C then reaches only this
// launcher, which stops the services first and the database and NATS after them, instead of every
// process getting SIGINT at once and PostgreSQL going away under services that are still draining.
function startService(name, script, env) {
  if (stopping) throw new Error('stopping');
  // The absolute path puts the checkout in the command line, by which a later start knows its leftovers.
  const child = spawn(process.execPath, [join(ROOT, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(name, child);
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
  services.push({ name, child });
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

const running = (child) => child.exitCode === null && child.signalCode === null;

/**
 * Signals `child`, waits for it to exit (SIGKILL after `graceMs`), then clears anything left in its
 * process group (e.g. an ffmpeg it ran). Resolves whether it exited cleanly (code 0).
 */
function stopChild(child, signal, graceMs) {
  if (!running(child)) return Promise.resolve(child.exitCode === 0);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already empty
      }
      resolve(code === 0);
    });
    child.kill(signal);
  });
}

async function shutdown(code = 0) {
  if (stopping) {
    log('stopping now');
    for (const { child } of services) if (running(child)) child.kill('SIGKILL');
    return;
  }
  stopping = true;
  log('stopping… (Ctrl-C again to stop the services without waiting)');
  // Services finish or hand back what they hold within their own grace period (SHUTDOWN_GRACE_MS, 40 s).
  const clean = await Promise.all(services.map(({ child }) => stopChild(child, 'SIGTERM', 45_000)));
  const unclean = services.filter((_, i) => !clean[i]).map(({ name }) => name);
  // Popped one by one so that a server still starting when the stop began is stopped as well.
  for (let next; (next = infra.pop()); ) {
    await Promise.resolve(next.stop()).catch((err) => console.error(`[reelay] stopping ${next.name}: ${err.message}`));
  }
  rmSync(PIDS, { force: true });
  rmSync(RUNNING, { force: true });
  if (unclean.length && code === 0) {
    console.error(`[reelay] not stopped cleanly: ${unclean.join(', ')}`);
    code = 1;
  }
  log('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));
// A closed terminal (SIGHUP) makes every later write fail with EIO: unhandled, that error would end the
// launcher mid-stop and leave PostgreSQL and NATS running.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

async function main() {
  ensureDependencies();
  mkdirSync(DATA, { recursive: true });
  const other = runningLauncher(PIDS, 'tools/start.mjs');
  if (other) {
    // Its services hold the ports and the embedded PostgreSQL's data: a second start would only fail (or stop them).
    console.error(`[reelay] reelay is already running from this checkout (npm start, pid ${other}): stop it with Ctrl-C there first`);
    process.exit(1);
  }
  const left = await stopLeftovers(PIDS, ROOT);
  if (left.length > 0) log(`stopped what an earlier start left running: ${left.join(', ')}`);
  rmSync(PIDS, { force: true });
  appendFileSync(PIDS, `${LAUNCHER} ${process.pid}\n`);
  run('npx nx run-many -t build --output-style=static');
  const DATABASE_URL = await ensurePostgres();
  const NATS_URL = await ensureNats();
  const env = { DATABASE_URL, NATS_URL, ...(process.env.NATS_PREFIX ? { NATS_PREFIX: process.env.NATS_PREFIX } : {}) };
  // `npm run reelay` (the operator CLI) reads this while the stack runs: the embedded PostgreSQL or
  // the local nats-server started here are not where its defaults point.
  writeFileSync(RUNNING, JSON.stringify(env) + '\n', { mode: 0o600 });
  run('node libs/event-store/dist/cli/migrate.js', { env });

  const demoKey = process.env.REELAY_DEMO_KEY ?? persistentSecret('demo-key', () => `rly_${randomBytes(24).toString('base64url').replace(/[-_]/g, '').slice(0, 32).padEnd(32, 'x')}`);
  const cli = (...args) => spawnSync(process.execPath, ['apps/ops-cli/dist/main.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const created = cli('keys', 'create', '--user', 'demo', '--label', 'demo', '--key', demoKey);
  if (created.status !== 0) throw new Error(`could not create the demo key (a revoked one is not made again: remove .data/demo-key or set REELAY_DEMO_KEY to another key): ${created.stderr}`);
  const balance = JSON.parse(cli('credits', 'balance', '--user', 'demo').stdout || '{"balance":0}').balance;
  if (balance < 100) cli('credits', 'grant', '--user', 'demo', '--amount', '1000');

  const gatewayPort = Number(process.env.GATEWAY_PORT ?? 3000);
  const simPort = Number(process.env.PROVIDER_SIM_PORT ?? 4010);
  const serviceEnv = {
    ...env,
    STORAGE_DIR: process.env.STORAGE_DIR ?? join(DATA, 'storage'),
    PROVIDER_SIM_URL: process.env.PROVIDER_SIM_URL ?? `http://127.0.0.1:${simPort}`,
    // By default the local renderer and every provider whose key is set (a real key goes to the real
    // API); REELAY_SIM_PROVIDERS=1 offers every other provider through the simulator too.
    PROVIDERS_ENABLED: process.env.PROVIDERS_ENABLED ?? (process.env.REELAY_SIM_PROVIDERS ? '' : ['local', ...providersWithKeys()].join(',')),
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://localhost:${gatewayPort}`,
    WEBHOOK_MASTER_SECRET: process.env.WEBHOOK_MASTER_SECRET ?? persistentSecret('webhook-master-secret', () => randomBytes(32).toString('base64')),
    // Signed links to uploads, for providers that fetch reference images (Luma takes nothing else).
    ASSET_URL_SECRET: process.env.ASSET_URL_SECRET ?? persistentSecret('asset-url-secret', () => randomBytes(32).toString('base64')),
    LOCAL_RENDER_DIR: process.env.LOCAL_RENDER_DIR ?? join(DATA, 'renders'),
  };
  if (!serviceEnv.PROVIDERS_ENABLED) delete serviceEnv.PROVIDERS_ENABLED;

  startService('provider-sim', 'apps/provider-sim/dist/main.js', { ...serviceEnv, PORT: String(simPort) });
  await waitReady('provider-sim', `http://127.0.0.1:${simPort}/_sim/stats`);
  const ports = Object.fromEntries(
    Object.entries({ intake: 3001, dispatch: 3002, polling: 3003, notification: 3004 }).map(([name, port]) => [name, Number(process.env[`${name.toUpperCase()}_PORT`] ?? port)]),
  );
  for (const [name, port] of Object.entries(ports)) {
    startService(name, `apps/${name}/dist/main.js`, { ...serviceEnv, [`${name.toUpperCase()}_PORT`]: String(port) });
  }
  startService('gateway', 'apps/gateway/dist/main.js', { ...serviceEnv, GATEWAY_PORT: String(gatewayPort) });
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

/**
 * Registered providers with a key in the environment (`OPENAI_API_KEY` → openai); the local
 * renderer's own key aside. Other `*_API_KEY` variables (a GEMINI_API_KEY in the shell) are not
 * providers: the services would refuse them in PROVIDERS_ENABLED. Read from the built providers lib.
 */
function providersWithKeys() {
  const { ADAPTER_FACTORIES } = createRequire(import.meta.url)(join(ROOT, 'libs/providers/dist/index.js'));
  return ADAPTER_FACTORIES.filter((f) => f.name !== 'local' && process.env[`${f.envPrefix}_API_KEY`]).map((f) => f.name);
}
