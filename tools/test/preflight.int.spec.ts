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
