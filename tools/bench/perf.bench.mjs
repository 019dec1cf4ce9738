// Where the CPU of the whole machine goes during a peak run, from `perf record -a -e cpu-clock`
// (on-CPU samples of every process, unlike V8's profiler, which samples the main thread's wall
// time). Needs Linux perf (Debian: linux-perf) and root or kernel.perf_event_paranoid <= 0;
// without them the section says so and the rest of the bench runs as before.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJobs } from './diagnose.bench.mjs';
import { createUsers, log, startReelay } from './lib/common.mjs';
import { summarisePerf } from './lib/perf-report.mjs';

/** Why perf cannot run here, or null when it can. */
export function perfUnavailable() {
  if (spawnSync('perf', ['--version'], { encoding: 'utf8' }).status !== 0) return '`perf` is not installed (Debian package linux-perf)';
  let paranoid = 2;
  try {
    paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
  } catch {}
  if (process.getuid?.() !== 0 && paranoid > 0) return `system-wide sampling needs root or kernel.perf_event_paranoid <= 0 (it is ${paranoid})`;
  return null;
}

/** The threads of a process now (V8's and libuv's helpers included), as tid → name. */
function threadsOf(pid, name, into) {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) into.set(Number(tid), name);
  } catch {}
}

export async function perfRun({ warmup, jobs, users }) {
  const why = perfUnavailable();
  if (why) {
    log(`perf: skipped, ${why}`);
    return { available: false, reason: why };
  }
  const file = join(tmpdir(), `reelay-perf-${process.pid}.data`);
  const stack = await startReelay({ label: 'perf' });
  try {
    const keys = await createUsers(stack, users);
    await runJobs(stack, warmup, keys);
    const threads = new Map();
    for (const s of stack.services) threadsOf(s.child.pid, s.name, threads);
    const others = new Map();
    threadsOf(process.pid, 'the bench (HTTP client)', others);
    const perf = spawn('perf', ['record', '-a', '-e', 'cpu-clock', '-F', '499', '-o', file], { stdio: 'ignore' });
    const exited = new Promise((resolve) => perf.on('exit', resolve));
    await runJobs(stack, jobs, keys);
    perf.kill('SIGINT');
    await exited;
    const report = spawnSync('perf', ['report', '-i', file, '--no-children', '--sort', 'pid,dso,sym', '-g', 'none', '--stdio', '--percent-limit', '0'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const summary = summarisePerf(report.stdout, threads, others);
    log(`perf: the stack's Node processes ${(summary.nodeShare * 100).toFixed(0)} % of the machine's CPU; ${summary.nodeCategories.map((c) => `${c.name} ${(c.share * 100).toFixed(0)} %`).join(', ')}`);
    return { available: true, warmup, jobs, ...summary };
  } finally {
    await stack.stop();
    rmSync(file, { force: true });
  }
}
