import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { assertExitedAsAsked, freePort, isAlive as alive, stablePort, startService } from '../src/service-process';

async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (!alive(pid)) return true;
  return false;
}

/** Runs exit-child.cjs; resolves with the pid of the service it started, once it printed it. */
function starter(how: 'throw' | 'exit' | 'signal') {
  const child = spawn(process.execPath, [join(__dirname, 'exit-child.cjs'), how], { stdio: ['ignore', 'pipe', 'pipe'] });
  const servicePid = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(`the starter ended before printing a pid: ${out}`)));
  });
  return { child, servicePid };
}

describe('services started by startService end with the process that started them', () => {
  it.each(['throw', 'exit'] as const)('when it ends by %s', async (how) => {
    const { servicePid } = starter(how);
    const pid = await servicePid;
    expect(await gone(pid)).toBe(true);
  });

  it('when it is interrupted (Ctrl-C)', async () => {
    const { child, servicePid } = starter('signal');
    const pid = await servicePid;
    expect(alive(pid)).toBe(true);
    child.kill('SIGINT');
    expect(await gone(pid)).toBe(true);
  });
});

describe('a port for a process that is restarted on it', () => {
  const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

  it('is free and lies outside the range the kernel hands to listen(0) and outgoing connections', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => stablePort()));
    expect(new Set(ports).size).toBe(ports.length);
    // (A kernel whose ephemeral range starts below 11000 leaves no room: stablePort falls back to freePort there.)
    if (ephemeralLow >= 11_000) for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
    const servers: Server[] = [];
    for (const port of ports) {
      const srv = createServer();
      await new Promise<void>((res, rej) => srv.once('error', rej).listen(port, '127.0.0.1', res));
      servers.push(srv);
    }
    // What other tests ask for meanwhile never lands on it.
    const others = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    for (const port of others) expect(port).toBeGreaterThanOrEqual(ephemeralLow);
    await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  });
});

describe('a service process that ended other than as asked', () => {
  const sim = async () => {
    const p = await startService('provider-sim', {}, 'PORT');
    await p.ready(20_000, '/_sim/health');
    return p;
  };
  const ended = (p: Awaited<ReturnType<typeof sim>>) => new Promise((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r(null) : p.child.once('exit', r)));

  it('is reported when it died without the test asking (a crash mid-suite)', async () => {
    const crashed = await sim();
    const stopped = await sim();
    process.kill(crashed.child.pid!, 'SIGKILL');
    await ended(crashed);
    expect(crashed.exitProblem()).toBe('ended on its own with signal SIGKILL');
    expect(await stopped.kill('SIGTERM')).toBe(0);
    expect(stopped.exitProblem()).toBeUndefined();
    expect(() => assertExitedAsAsked([crashed, stopped])).toThrow(/provider-sim \(pid \d+\) ended on its own with signal SIGKILL/);
    // Asking it to stop afterwards does not hide the crash.
    await crashed.kill('SIGTERM');
    expect(crashed.exitProblem()).toBe('ended on its own with signal SIGKILL');
  });

  it('is reported when a SIGTERM did not end it cleanly, and a SIGKILL the test sent is no problem', async () => {
    const killed = await sim();
    expect(await killed.kill('SIGKILL')).toBeNull();
    expect(killed.exitProblem()).toBeUndefined();
    const running = await sim();
    expect(running.exitProblem()).toBeUndefined();
    const unclean = await sim();
    // Stopped, it cannot act on the SIGTERM, and the SIGKILL that follows ends it as a grace timeout would.
    process.kill(unclean.child.pid!, 'SIGSTOP');
    const code = unclean.kill('SIGTERM');
    process.kill(unclean.child.pid!, 'SIGKILL');
    expect(await code).toBeNull();
    expect(unclean.exitProblem()).toBe('did not stop cleanly on SIGTERM (signal SIGKILL)');
    await running.kill();
    expect(() => assertExitedAsAsked([killed, running])).not.toThrow();
  });
});
