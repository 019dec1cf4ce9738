// Shared helpers of the benchmarks: the reelay stack as processes, API users, /proc sampling,
// percentiles, Prometheus histogram reading.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '../../lib/preflight.mjs';

export { ROOT };
const require = createRequire(import.meta.url);
export const testing = require(join(ROOT, 'libs/testing/dist/index.js'));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const num = (name, fallback) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : fallback);
export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
export const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

/** Settings every bench stack shares: one provider (Runway through the simulator), no per-key rate limit. */
export function reelayEnv(extra = {}) {
  return {
    PROVIDERS_ENABLED: 'runway',
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    PROVIDER_MAX_IN_FLIGHT_DEFAULT: '1000000',
    CONSUMER_CONCURRENCY: String(num('BENCH_CONSUMER_CONCURRENCY', 64)),
    POLL_CONCURRENCY: String(num('BENCH_POLL_CONCURRENCY', 64)),
    POLL_TICK_MS: String(num('BENCH_POLL_TICK_MS', 20)),
    POLL_SCHEDULE_MS: '0,100,200,400,800',
    POLL_DELAYED_INTERVAL_MS: '1000',
    POLL_DEADLINE_MS: '600000',
    DB_POOL_SIZE: String(num('BENCH_DB_POOL_SIZE', 10)),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export function replicasFromEnv() {
  const r = num('BENCH_REPLICAS', 1);
  return { intake: r, dispatch: r, polling: r, notification: 1 };
}

export async function startReelay({ label, env = {}, replicas = replicasFromEnv() }) {
  return testing.startStack({ label, replicas, env: reelayEnv(env) });
}

/** `count` users with API keys and plenty of credits (each user's credit ledger is its own stream). */
export async function createUsers(stack, count, credits = 100_000_000) {
  const run = (user) =>
    new Promise((res, rej) =>
      execFile(process.execPath, [join(ROOT, 'apps/ops-cli/dist/main.js'), 'keys', 'create', '--user', user, '--credits', String(credits)], { env: { ...process.env, ...stack.env } }, (err, out) =>
        err ? rej(err) : res(JSON.parse(out.trim()).key),
      ),
    );
  const keys = [];
  for (let i = 0; i < count; i += 4) keys.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, (_, j) => run(`bench-user-${i + j}`)))));
  return keys;
}

/**
 * Node's http client on keep-alive connections, not fetch: the load generator shares the machine's
 * cores with the stack it measures, and with fetch (undici) it took 0.83 ms of CPU per job against
 * 0.24 ms here. Real clients run elsewhere, so the less the generator takes, the fairer the figure.
 * The stacks the benches start serve plain HTTP.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

export function submitJob(gatewayUrl, key, body) {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL('/v1/jobs', gatewayUrl),
      { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => (res.statusCode === 202 ? resolve(JSON.parse(text)) : reject(new Error(`submit answered ${res.statusCode}: ${text.slice(0, 300)}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export const instantJob = (i) => ({ model: 'gen4.5', prompt: `bench job ${i} [sim:success_after=1]`, aspectRatio: '16:9', durationSeconds: 5 });

export const TERMINAL_TYPES = ['JobSucceeded', 'JobFailed', 'JobCanceled'];

/**
 * Waits until every job in `ids` has a terminal event in the log. Each look asks only about the
 * jobs still unfinished, by key: the bench shares PostgreSQL with the stack it measures, and a
 * count over the whole log every 200 ms (as earlier versions did) was a sequential scan of a
 * growing table, about 6 % of PostgreSQL's busy time in a peak run, charged to reelay.
 * The run's figures come from the events' recorded_at, not from when this notices the end.
 */
export async function waitJobsEnded(db, ids, timeoutMs, intervalMs = 500) {
  let pending = ids.map((id) => `job-${id}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // With thousands of ids the planner prefers a sequential scan: by key it is each job's few rows.
    await db.query('BEGIN');
    await db.query('SET LOCAL enable_seqscan = off');
    const { rows } = await db.query(`SELECT DISTINCT stream_id FROM events WHERE stream_id = ANY($1) AND type = ANY($2)`, [pending, TERMINAL_TYPES]);
    await db.query('COMMIT');
    const ended = new Set(rows.map((r) => r.stream_id));
    pending = pending.filter((s) => !ended.has(s));
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`only ${ids.length - pending.length} of ${ids.length} jobs ended within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

export function pgClient(url) {
  return new pg.Client({ connectionString: url });
}

export { median, percentile, summary } from './stats.mjs';

const CLK_TCK = 100;
/** RSS (MiB) and cumulative CPU seconds of a process, from /proc. */
export function procSample(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    const { user, system } = cpuTimes(pid);
    return { rssMiB: rssKb / 1024, cpuSeconds: user + system, at: performance.now() };
  } catch {
    return null;
  }
}

/**
 * utime and stime of a process in seconds, and with `reaped` the cutime and cstime of its children
 * that ended and were waited for, from /proc/<pid>/stat (throws when it is gone).
 */
function cpuTimes(pid, reaped = false) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const field = (i) => Number(fields[i]) / CLK_TCK;
  return reaped ? { user: field(11) + field(13), system: field(12) + field(14) } : { user: field(11), system: field(12) };
}

/** Pids of the processes whose name (/proc/<pid>/comm) starts with `name` (postgres, nats-server). */
export function pidsNamed(name) {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').startsWith(name);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Starts measuring the CPU of each of `groups` ({ name: pids | () => pids }); the returned
 * function gives what each used since, user and system seconds apart. Process CPU time, unlike a V8 profile's wall-time samples, does
 * not count the time a process waited for a core.
 */
export function cpuMeter(groups) {
  // Per pid, with each process's reaped children: a process that ends during the measurement (a
  // PostgreSQL backend, an ffprobe) is then neither lost nor taken off. Its time moves to its
  // parent's cutime/cstime when reaped, and what it had used before the start is subtracted.
  const read = () =>
    Object.fromEntries(
      Object.entries(groups).map(([name, pids]) => {
        const list = typeof pids === 'function' ? pids() : pids;
        const times = new Map();
        for (const pid of list) {
          try {
            times.set(pid, cpuTimes(pid, true));
          } catch {
            // gone between the listing and the read
          }
        }
        return [name, times];
      }),
    );
  const before = read();
  return () => {
    const after = read();
    return Object.fromEntries(
      Object.keys(after).map((k) => {
        const sum = { user: 0, system: 0 };
        for (const t of after[k].values()) (sum.user += t.user), (sum.system += t.system);
        for (const t of before[k].values()) (sum.user -= t.user), (sum.system -= t.system);
        return [k, sum];
      }),
    );
  };
}

/** User plus system time over all groups of a reading (`cpuMeter`'s, or the same shape per job). */
export const cpuTotal = (reading) => Object.values(reading ?? {}).reduce((a, v) => a + v.user + v.system, 0);

/** Cumulative buckets of a Prometheus histogram, summed over its series (or only those whose labels contain `labelMatch`). */
export function histogramBuckets(text, name, labelMatch = null) {
  const buckets = new Map();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} ([0-9.eE+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    if (labelMatch && !m[1].includes(labelMatch)) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(m[2]));
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

/** p-quantile of the difference of two cumulative bucket snapshots, interpolated inside its bucket. */
export function histogramQuantile(after, before, p) {
  const b = new Map(before);
  const rows = after.map(([le, c]) => [le, c - (b.get(le) ?? 0)]);
  const total = rows.at(-1)?.[1] ?? 0;
  if (!total) return { value: NaN, count: 0, bucket: 'none' };
  const rank = (p / 100) * total;
  let prevLe = 0;
  let prevC = 0;
  for (const [le, c] of rows) {
    if (c >= rank) {
      const value = le === Infinity ? prevLe : prevLe + ((le - prevLe) * (rank - prevC)) / Math.max(1, c - prevC);
      return { value, count: total, bucket: `${prevLe}–${le === Infinity ? '+Inf' : le} s` };
    }
    prevLe = le;
    prevC = c;
  }
  return { value: NaN, count: total, bucket: 'none' };
}
