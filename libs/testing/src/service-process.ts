import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/**
 * A free port below the kernel's ephemeral range, for a process that is killed and started again
 * on the same port. A port from `freePort` comes from that range, so while its owner is down the
 * kernel can hand it to another test's `listen(0)` or to an outgoing connection; the restarted
 * process then cannot bind, and clients meet a stranger on its address (a CI chaos run once got
 * another service's 404 there). Ports below the range are only ever taken by asking for them.
 */
export async function stablePort(): Promise<number> {
  const low = ephemeralLow();
  const from = 10_000;
  if (low - from < 1000) return freePort();
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    // Several asked for at once (before any is bound) must differ too.
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  return freePort();
}

const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Services started by this process and still running. */
const live = new Set<ChildProcess>();

function killLive(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Services die with the process that started them, also when it ends by an uncaught error,
 * `process.exit` or Ctrl-C: a bench or test run that crashes must not leave a stack running
 * (it held ports and CPU and skewed the next measurement). Not after a SIGKILL of this process,
 * which no handler sees.
 */
function killLiveOnExit(): void {
  process.once('exit', killLive);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(signal) > 0) continue; // the host (e.g. jest) handles it and exits
    process.once(signal, () => {
      killLive();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when GET `path` (default /health/ready) answers 200. */
  ready(timeoutMs?: number, path?: string): Promise<void>;
  /** Sends the signal and resolves with the exit code once the process has ended (null if a signal ended it). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Why the process ended other than as asked: on its own (a crash), or not cleanly after a
   * SIGTERM/SIGINT (a non-zero code, or the grace period ran out). Undefined while it runs, and
   * after a clean stop or a SIGKILL the test sent.
   */
  exitProblem(): string | undefined;
}

/** The last lines a process wrote, for a failure message. */
export function outputTail(output: string, lines = 20): string {
  return output.trim().split('\n').slice(-lines).join('\n');
}

/** Fails with every process's exitProblem, if any has one. */
export function assertExitedAsAsked(processes: readonly ServiceProcess[]): void {
  const problems = processes.flatMap((p) => {
    const problem = p.exitProblem();
    return problem ? [`${p.name} (pid ${p.child.pid}) ${problem}:\n${outputTail(p.output())}`] : [];
  });
  if (problems.length > 0) throw new Error(`service processes ended other than as asked:\n${problems.join('\n\n')}`);
}

/**
 * Starts `apps/<app>/dist/main.js` as its own Node process (build first: `npm test` does).
 * `portVar` is the env variable the app reads its HTTP port from.
 */
export async function startService(app: string, env: Record<string, string>, portVar = `${app.toUpperCase().replace(/-/g, '_')}_PORT`): Promise<ServiceProcess> {
  const main = join(WORKSPACE_ROOT, 'apps', app, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx nx run-many -t build)`);
  const port = env[portVar] ? Number(env[portVar]) : await freePort();
  const child = spawn(process.execPath, [main], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, [portVar]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (live.size === 0 && !process.listeners('exit').includes(killLive)) killLiveOnExit();
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let asked: NodeJS.Signals | undefined;
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const how = () => (child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`);
  return {
    name: app,
    port,
    url,
    child,
    output: () => out,
    async ready(timeoutMs = 20_000, path = '/health/ready') {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (ended()) throw new Error(`${app} exited with ${how()}:\n${out}`);
        try {
          const res = await fetch(`${url}${path}`);
          // Another process on the port could answer too: ours must still be running.
          if (res.ok && !ended()) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${app} not ready after ${timeoutMs} ms:\n${out}`);
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (ended()) return child.exitCode;
      asked ??= signal;
      child.kill(signal);
      return exited;
    },
    exitProblem() {
      if (!ended()) return undefined;
      if (asked === undefined) return `ended on its own with ${how()}`;
      if (asked !== 'SIGKILL' && child.exitCode !== 0) return `did not stop cleanly on ${asked} (${how()})`;
      return undefined;
    },
  };
}
