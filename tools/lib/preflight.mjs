// Shared start-up checks for the npm scripts: dependencies installed, services reachable.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout, as a path (a URL's pathname would keep `%20` for a space). Ends with a separator. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('[reelay] installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: ROOT, stdio: 'inherit' });
}

export function canConnect(url, defaultPort, timeoutMs = 1500) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Why PostgreSQL at `url` refuses to log in with its user and password (a role that does not exist,
 * a password it wants), or null when it lets them in. Asked of the maintenance database `postgres`,
 * from which migrations create the database `url` names. An open port is not enough: a system
 * PostgreSQL that wants a password would fail the migrations later.
 */
export async function postgresLoginRefused(url, timeoutMs = 3000) {
  const { default: pg } = await import('pg');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Why the NATS at `url` cannot serve reelay (no JetStream, a login it refuses), or null. Debian's
 * nats-server package starts a system service on 4222 with JetStream off.
 */
export async function natsProblem(url, timeoutMs = 3000) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  let nc;
  try {
    nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false });
    await jetstreamManager(nc); // asks for the account's JetStream info: refused where it is off
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/**
 * Whether npm start uses the server at `url` or starts one of its own (`own`, with the reason to
 * log). A server the user named (`named`: DATABASE_URL or NATS_URL set) must work as it is: with a
 * typo or the server down, a stack of its own would quietly keep the user's jobs somewhere else.
 */
export async function chooseServer({ env, url, named, reachable, problem }) {
  const where = `${env} (${new URL(url).host})`;
  if (await reachable()) {
    const why = await problem();
    if (!why) return { use: url };
    if (named) throw new Error(`the server at ${where} cannot be used: ${why}`);
    return { own: `the server at ${new URL(url).host} cannot be used (${why})` };
  }
  if (named) throw new Error(`nothing answers at ${where}: start that server, correct ${env}, or unset it to have npm start run one of its own`);
  return { own: `nothing answers at ${new URL(url).host}` };
}

export function run(cmd, opts = {}) {
  console.log(`[reelay] $ ${cmd}`);
  execSync(cmd, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...opts.env } });
}
