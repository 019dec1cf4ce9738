import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stablePort } from '@reelay/testing';

/**
 * A nats-server with JetStream of the test's own (a free port, a store in a temp directory), so a
 * run can restart it without disturbing other suites on the machine's NATS. The store survives a
 * restart, as a real server's disk does.
 */
export interface PrivateNats {
  readonly url: string;
  /** SIGTERM (JetStream flushes and exits), then the same command again; resolves once it takes connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? 'nats-server';

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await stablePort();
  const store = mkdtempSync(join(tmpdir(), 'reelay-chaos-nats-'));
  let child: ChildProcess = await launch(port, store);
  return {
    url: `nats://127.0.0.1:${port}`,
    async restart() {
      await stopChild(child);
      child = await launch(port, store);
    },
    async stop() {
      await stopChild(child);
      rmSync(store, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, store: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  // Raced below while starting; an error after that (the process gone) shows in the next restart or stop.
  failed.catch(() => undefined);
  for (const until = Date.now() + 15_000; Date.now() < until; ) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    if (await Promise.race([portOpen(port), failed])) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`nats-server did not take connections on ${port} within 15 s`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
