import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '@reelay/testing';
import { join } from 'node:path';

describe('npm start: whether the local PostgreSQL takes the login (tools/lib/preflight.mjs)', () => {
  const LIB = join(__dirname, '..', 'lib', 'preflight.mjs');
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const refused = (url: string): string | null =>
    JSON.parse(execFileSync(process.execPath, ['-e', `import(${JSON.stringify(LIB)}).then(async (m) => process.stdout.write(JSON.stringify(await m.postgresLoginRefused(process.argv[1]))))`, url], { encoding: 'utf8' }));

  it('lets a login it takes through, and names why it refuses one (a role that does not exist)', () => {
    expect(refused(base)).toBeNull();
    const stranger = new URL(base);
    stranger.username = 'reelay_no_such_role';
    expect(refused(stranger.toString())).toMatch(/reelay_no_such_role/);
  });
});

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

describe('npm start: whether a NATS found can serve reelay (tools/lib/preflight.mjs)', () => {
  const LIB = join(__dirname, '..', 'lib', 'preflight.mjs');
  const problem = (url: string): string | null =>
    JSON.parse(execFileSync(process.execPath, ['-e', `import(${JSON.stringify(LIB)}).then(async (m) => process.stdout.write(JSON.stringify(await m.natsProblem(process.argv[1]))))`, url], { encoding: 'utf8' }));

  it('takes a NATS with JetStream, and names why not one without it (as Debian\'s nats-server service runs)', async () => {
    expect(problem(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222')).toBeNull();
    const port = await freePort();
    const plain = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
      expect(problem(`nats://127.0.0.1:${port}`)).toMatch(/jetstream/i);
    } finally {
      plain.kill();
    }
  });
});

describe('npm start: a server the user named must work (tools/lib/preflight.mjs chooseServer)', () => {
  const LIB = join(__dirname, '..', 'lib', 'preflight.mjs');
  /** chooseServer with npm start's PostgreSQL probes, in its own node (the lib is ESM): its answer, or the error it threw. */
  const choose = (url: string, named: boolean): { use?: string; own?: string; error?: string } =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-e',
          `import(${JSON.stringify(LIB)}).then(async (m) => {
            const [url, named] = [process.argv[1], process.argv[2] === 'true'];
            const answer = await m.chooseServer({ env: 'DATABASE_URL', url, named, reachable: () => m.canConnect(url, 5432), problem: () => m.postgresLoginRefused(url) }).catch((e) => ({ error: e.message }));
            process.stdout.write(JSON.stringify(answer));
          })`,
          url,
          String(named),
        ],
        { encoding: 'utf8' },
      ),
    );
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

  it('uses a server that answers and takes the login, named or not', () => {
    expect(choose(base, true)).toEqual({ use: base });
    expect(choose(base, false)).toEqual({ use: base });
  });

  it('refuses a named server nothing answers at, instead of quietly running the stack on one of its own', async () => {
    const nobody = `postgres://postgres@127.0.0.1:${await freePort()}/reelay`;
    expect(choose(nobody, true).error).toMatch(/^nothing answers at DATABASE_URL \(127\.0\.0\.1:\d+\): start that server, correct DATABASE_URL, or unset it/);
    // Only the default address, which nobody named, falls back to a server of npm start's own.
    expect(choose(nobody, false)).toEqual({ own: expect.stringMatching(/^nothing answers at 127\.0\.0\.1:\d+$/) });
  });

  it('refuses a named server that will not take the login, and falls back from the default one', () => {
    const stranger = new URL(base);
    stranger.username = 'reelay_no_such_role';
    expect(choose(stranger.toString(), true).error).toMatch(/cannot be used: .*reelay_no_such_role/);
    expect(choose(stranger.toString(), false).own).toMatch(/cannot be used \(.*reelay_no_such_role/);
  });
});
