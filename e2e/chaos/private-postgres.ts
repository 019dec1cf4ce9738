import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
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
  stop(): Promise<void>;
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

function run(bin: string, args: string[]): void {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const port = await stablePort();
  const dir = mkdtempSync(join(tmpdir(), 'reelay-chaos-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
  const options = `-p ${port} -h 127.0.0.1 -k ${dir} -c max_connections=200`;
  const start = () => run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stopWith = (mode: string) => run(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      stopWith('immediate');
      start();
    },
    async stop() {
      try {
        stopWith('fast');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
