import { execFile, execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stablePort } from '@reelay/testing';

/**
 * A PostgreSQL cluster of the test's own (initdb into a temp directory, a port of its own, trust
 * auth on 127.0.0.1), so a run can crash and restart its database without disturbing the suites
 * that share the machine's server. The data directory survives a restart, as a real server's does.
 */
export interface PrivatePostgres {
  /** Superuser URL of the cluster's `postgres` database (what createTestDatabase connects to). */
  readonly adminUrl: string;
  /** An immediate shutdown (no checkpoint: the start replays the WAL, as after a crash), then a start. */
  restart(): Promise<void>;
  /** Stops the server if it runs, keeps its log as `logCopy` when given, removes the cluster. */
  stop(logCopy?: string): Promise<void>;
}

/** Where initdb and pg_ctl are: PG_BIN_DIR, else the newest of Debian's /usr/lib/postgresql/<major>/bin. */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error('initdb not found: install PostgreSQL server binaries or set PG_BIN_DIR');
  return join(root, majors.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

// PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` account.
const asRoot = userInfo().uid === 0;
const run = promisify(execFile);

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const port = await stablePort();
  const dir = mkdtempSync(join(tmpdir(), 'reelay-chaos-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  // Async, so the run's servers and clients in this process go on while PostgreSQL starts or stops;
  // in the cluster's directory, which the postgres account can read wherever the checkout is.
  const pg = async (program: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    await run(cmd, argv, { cwd: dir, timeout: 90_000 });
  };
  const start = () => pg('pg_ctl', ['-D', data, '-o', `-p ${port} -h 127.0.0.1 -k "${dir}" -c max_connections=200`, '-l', log, '-w', '-t', '60', 'start']);
  const running = () => existsSync(join(data, 'postmaster.pid'));
  const stopWith = async (mode: 'fast' | 'immediate') => {
    if (running()) await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  const remove = async (logCopy?: string) => {
    try {
      await stopWith('fast').catch(() => stopWith('immediate'));
    } finally {
      if (logCopy && existsSync(log)) copyFileSync(log, logCopy);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
    await start();
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await stopWith('immediate');
      await start();
    },
    stop: remove,
  };
}
