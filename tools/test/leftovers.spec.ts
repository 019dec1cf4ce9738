import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIB = join(__dirname, '..', 'lib', 'leftovers.mjs');

/** Runs stopLeftovers in its own node (jest here is CommonJS); resolves with the names it stopped. */
function stopLeftovers(pidFile: string, marker: string): Promise<string[]> {
  const script = `import(${JSON.stringify(LIB)}).then(async (m) => {
    process.stdout.write(JSON.stringify(await m.stopLeftovers(process.argv[1], process.argv[2], { graceMs: 3000 })));
  })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, pidFile, marker], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`))));
  });
}

/** A detached process (its own group, as npm start's children) whose command line holds `arg`; resolves once its handlers are in place. */
async function detached(arg: string, ignoreTerm = false): Promise<ChildProcess> {
  const body = `${ignoreTerm ? "process.on('SIGTERM', () => {}); " : ''}setInterval(() => {}, 1000); process.stdout.write('ready\\n')`;
  const child = spawn(process.execPath, ['-e', body, arg], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  child.unref();
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.stdout!.destroy();
  return child;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

jest.setTimeout(20_000);

describe('npm start: what a killed launcher left running (tools/lib/leftovers.mjs)', () => {
  let dir: string;
  const started: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reelay-leftovers-'));
  });
  afterEach(() => {
    for (const c of started.splice(0)) if (c.pid && alive(c.pid)) process.kill(c.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the listed processes of this checkout, one that ignores SIGTERM too, and leaves a reused pid alone', async () => {
    const checkout = join(dir, 'checkout with space/');
    const service = await detached(join(checkout, 'apps/intake/dist/main.js'));
    const stubborn = await detached(join(checkout, '.data/nats'), true);
    const stranger = await detached(join(dir, 'someone-else/main.js'));
    started.push(service, stubborn, stranger);
    const pidFile = join(dir, 'pids');
    writeFileSync(pidFile, `launcher 999998\nnats ${stubborn.pid}\nintake ${service.pid}\nunrelated ${stranger.pid}\ngone 999999\n`);

    const stopped = await stopLeftovers(pidFile, checkout);

    expect(stopped).toEqual(['intake', 'nats']);
    await Promise.all([exited(service), exited(stubborn)]);
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(service.signalCode).toBe('SIGTERM');
    expect(alive(stranger.pid!)).toBe(true);
  });

  it('tells a launcher that still runs (another npm start) from a dead one', async () => {
    const launcher = await detached(join(dir, 'checkout/tools/start.mjs'));
    started.push(launcher);
    const pidFile = join(dir, 'pids');
    writeFileSync(pidFile, `launcher ${launcher.pid}\nintake 999999\n`);
    const script = `import(${JSON.stringify(LIB)}).then((m) => process.stdout.write(JSON.stringify(m.runningLauncher(process.argv[1], 'tools/start.mjs'))))`;
    const ask = () => JSON.parse(execFileSync(process.execPath, ['-e', script, pidFile], { encoding: 'utf8' }));
    expect(ask()).toBe(launcher.pid);
    process.kill(launcher.pid!, 'SIGKILL');
    await exited(launcher);
    expect(ask()).toBeNull();
  });

  it('does nothing without a pid file', async () => {
    expect(await stopLeftovers(join(dir, 'pids'), dir)).toEqual([]);
  });
});
