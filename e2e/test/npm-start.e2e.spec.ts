import { probeMp4 } from '@reelay/media';
import { deleteNatsPrefix, isAlive, stablePort, TEST_NATS_URL, uniqueNatsPrefix, WORKSPACE_ROOT } from '@reelay/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from './support/api-client';

// `npm start` as a new user runs it: a fresh clone of the committed repository (no node_modules,
// no dist), PostgreSQL unreachable so the embedded one has to come up, NATS from this machine.
// Slow by nature (npm ci and a full build), so it is one scenario with generous timeouts.

const SETUP_MS = 6 * 60_000;
let dir: string;
let clone: string;
let npmStart: ChildProcess | undefined;
let output = '';
let startedPids: { name: string; pid: number }[] = [];
const prefix = uniqueNatsPrefix('npmstart');

/** Processes whose executable or working directory lies inside the clone: everything `npm start` ran. */
function processesInClone(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const link = (what: string) => {
      try {
        return readlinkSync(`/proc/${entry}/${what}`);
      } catch {
        return '';
      }
    };
    if ([link('exe'), link('cwd')].some((p) => p.startsWith(clone))) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        // gone meanwhile
      }
      found.push(`${entry} ${cmd}`);
    }
  }
  return found;
}

async function waitUntil(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- npm start output (tail) ---\n${output.slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reelay-npm-start-'));
  // mkdtemp makes the folder private; as root the embedded server runs as the postgres user, which
  // must be able to reach the binaries and data inside the clone, as in any normal checkout.
  chmodSync(dir, 0o755);
  clone = join(dir, 'reelay');
  const cloned = spawnSync('git', ['clone', '--quiet', WORKSPACE_ROOT, clone], { encoding: 'utf8' });
  if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
}, SETUP_MS);

afterAll(async () => {
  if (npmStart?.pid && npmStart.exitCode === null && npmStart.signalCode === null) {
    try {
      process.kill(-npmStart.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const { pid } of startedPids) if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
  await deleteNatsPrefix(prefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it(
  'installs, builds, falls back to an embedded PostgreSQL, runs a job to a playable MP4 and leaves no process behind after Ctrl-C',
  async () => {
    const [gateway, sim, intake, dispatch, polling, notification, pg] = await Promise.all(Array.from({ length: 7 }, () => stablePort()));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // This machine's PostgreSQL answers at the default address; a DATABASE_URL that nothing
      // answers at would be refused (a user's typo must not run the stack on another database).
      EMBEDDED_PG: '1',
      NATS_URL: TEST_NATS_URL,
      NATS_PREFIX: prefix,
      GATEWAY_PORT: String(gateway),
      PROVIDER_SIM_PORT: String(sim),
      INTAKE_PORT: String(intake),
      DISPATCH_PORT: String(dispatch),
      POLLING_PORT: String(polling),
      NOTIFICATION_PORT: String(notification),
      EMBEDDED_PG_PORT: String(pg),
      // The npm cache is warm here; a user's first install would download the same packages.
      npm_config_prefer_offline: 'true',
      FORCE_COLOR: '0',
      // Another program's key in the user's shell is not a provider (the services refuse unknown names).
      GEMINI_API_KEY: 'not-a-reelay-provider-key',
    };
    delete env.NODE_ENV;
    delete env.REELAY_DEMO_KEY;
    delete env.DATABASE_URL;
    // Its own process group, as a shell runs a foreground job: Ctrl-C signals the whole group.
    npmStart = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    npmStart.stdout!.on('data', (d) => (output += d));
    npmStart.stderr!.on('data', (d) => (output += d));
    // 'close': npm has exited and so has everything holding its output (the launcher itself).
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => npmStart!.once('close', (code, signal) => res({ code, signal })));

    await waitUntil('the "reelay is running" banner', () => /Demo key:\s+rly_\w+/.test(output) || npmStart!.exitCode !== null, SETUP_MS - 30_000);
    expect(npmStart.exitCode).toBeNull();
    expect(output).toContain(`starting an embedded PostgreSQL on port ${pg}`);
    const webPage = /Web page:\s+(http:\/\/\S+?)\/?\s/.exec(output)![1];
    const key = /Demo key:\s+(rly_\w+)/.exec(output)![1];
    expect(webPage).toBe(`http://localhost:${gateway}`);

    const api = apiClient(webPage, key);
    const submitted = await api.submit({ model: 'local-preview', prompt: 'a red fox running through snow', aspectRatio: '16:9', durationSeconds: 1 });
    expect(submitted.status).toBe(202);
    const done = await api.waitFor(submitted.body.id, (job) => ['succeeded', 'failed', 'canceled'].includes(job.status), 60_000);
    expect(done.status).toBe('succeeded');
    const content = await fetch(`${webPage}/v1/jobs/${done.id}/content`, { headers: { authorization: `Bearer ${key}` } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const mp4 = probeMp4(Buffer.from(await content.arrayBuffer()));
    expect(mp4?.durationSeconds).toBeCloseTo(1, 0);

    startedPids = readFileSync(join(clone, '.data/pids'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => ({ name: line.split(' ')[0], pid: Number(line.split(' ')[1]) }));
    // The launcher lists itself too, so a second npm start can tell it is still running.
    expect(startedPids.map((p) => p.name).sort()).toEqual(['dispatch', 'gateway', 'intake', 'launcher', 'notification', 'polling', 'postgres', 'provider-sim']);
    expect(startedPids.every((p) => isAlive(p.pid))).toBe(true);
    // The embedded server's own processes (checkpointer, walwriter, backends…) run from the clone.
    expect(processesInClone().filter((p) => p.includes('postgres')).length).toBeGreaterThan(1);

    process.kill(-npmStart.pid!, 'SIGINT');
    // npm ends itself with the signal it got once its script has exited, as a shell expects.
    expect([{ code: 0, signal: null }, { code: null, signal: 'SIGINT' }]).toContainEqual(await closed);
    await waitUntil('every started process to exit', () => startedPids.every((p) => !isAlive(p.pid)) && processesInClone().length === 0, 15_000);
    expect(processesInClone()).toEqual([]);
    expect(output).not.toContain('not stopped cleanly');
    expect(output).toMatch(/\[reelay\]\S* stopped$/m);
    expect(existsSync(join(clone, '.data/pids'))).toBe(false);
  },
  SETUP_MS + 90_000,
);
