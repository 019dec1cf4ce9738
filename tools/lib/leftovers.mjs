// What a launcher that died without stopping its children (SIGKILL, a crash) left running: its
// pid file lists every process it started as `<name> <pid>` lines. Each child runs in its own
// process group, so nothing else stops them; the next start must, or it finds the embedded
// PostgreSQL's lock and every port taken.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** The launcher itself is listed as `launcher <pid>`: alive, it is another start still running, not a leftover. */
export const LAUNCHER = 'launcher';

/**
 * The pid of a launcher of this checkout that is still running (another `npm start`), or null.
 * `script` is what names a launcher in its command line (`tools/start.mjs`).
 */
export function runningLauncher(pidFile, script) {
  return listed(pidFile).find(({ name, pid }) => name === LAUNCHER && pid !== process.pid && runningChild(pid, script))?.pid ?? null;
}

/** The `<name> <pid>` lines of the pid file (none when there is no file). */
function listed(pidFile) {
  if (!existsSync(pidFile)) return [];
  return readFileSync(pidFile, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name, pid]) => name && Number.isInteger(Number(pid)) && Number(pid) > 0)
    .map(([name, pid]) => ({ name, pid: Number(pid) }));
}

/** Stopped after the services, in reverse start order, as a clean shutdown does. */
const INFRA = new Set(['postgres', 'nats']);
/** PostgreSQL's fast shutdown; everything else stops on SIGTERM. */
const STOP_SIGNAL = { postgres: 'SIGINT' };

/**
 * A pid counts as ours only while its command line names `marker` (the checkout or its data
 * directory): after a reboot the same pids may belong to anything.
 */
function runningChild(pid, marker) {
  // -ww: the whole command line, however long (some ps cut it to the terminal's width otherwise).
  const ps = spawnSync('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 && ps.stdout.includes(marker);
}

/** The processes of `pidFile` still running and ours, in the order they should be stopped. */
function leftovers(pidFile, marker) {
  const ours = listed(pidFile).filter(({ name, pid }) => name !== LAUNCHER && runningChild(pid, marker));
  return [...ours.filter((p) => !INFRA.has(p.name)), ...ours.filter((p) => INFRA.has(p.name)).reverse()];
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

async function stopped(pid, marker, timeoutMs) {
  for (const until = Date.now() + timeoutMs; Date.now() < until; ) {
    if (!runningChild(pid, marker)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !runningChild(pid, marker);
}

/**
 * Stops the leftovers of `pidFile`: the services together, then NATS and PostgreSQL one by one,
 * each given `graceMs` before SIGKILL. Returns the names of what it stopped.
 */
export async function stopLeftovers(pidFile, marker, { graceMs = 20_000 } = {}) {
  const found = leftovers(pidFile, marker);
  const services = found.filter((p) => !INFRA.has(p.name));
  const steps = [services, ...found.filter((p) => INFRA.has(p.name)).map((p) => [p])];
  for (const step of steps) {
    for (const p of step) signalGroup(p.pid, STOP_SIGNAL[p.name] ?? 'SIGTERM');
    await Promise.all(
      step.map(async (p) => {
        if (await stopped(p.pid, marker, graceMs)) return;
        signalGroup(p.pid, 'SIGKILL');
        await stopped(p.pid, marker, 5_000);
      }),
    );
  }
  return found.map((p) => p.name);
}
