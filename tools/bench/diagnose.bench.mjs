// Why reelay is where it is: a short end-to-end run with every service under `node --cpu-prof`
// (self time per function and per package), and a short run with PostgreSQL logging every
// statement of the bench database (statements and transactions per job, by kind).
// pg_stat_statements is not preloaded on this server (it needs a restart), hence the log.
import { mkdtempSync, openSync, readSync, rmSync, statSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, createUsers, waitJobsEnded, instantJob, log, pgClient, sleep, startReelay, submitJob } from './lib/common.mjs';
import { profilesIn, summariseProfile } from './lib/cpuprofile.mjs';

const PG_LOG = process.env.BENCH_PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';

/**
 * Runs `jobs` instant jobs to the end, then waits `settleMs` for the trailing work (credit
 * settlement, notifications, projections); returns how many job events the log holds afterwards.
 */
export async function runJobs(stack, jobs, keys, { settleMs = 2000 } = {}) {
  const db = pgClient(stack.db.url);
  await db.connect();
  try {
    const ids = [];
    let next = 0;
    await Promise.all(keys.map(async (k) => {
      while (next < jobs) ids.push((await submitJob(stack.gateway.url, k, instantJob(next++))).id);
    }));
    await waitJobsEnded(db, ids, 120_000);
    await sleep(settleMs);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'job-%'`);
    return rows[0].n;
  } finally {
    await db.end();
  }
}

export async function profileRun({ jobs, warmup = 1000, users }) {
  const dir = mkdtempSync(join(tmpdir(), 'reelay-cpuprof-'));
  const hook = join(ROOT, 'tools/bench/lib/cpu-prof-hook.cjs');
  const stack = await startReelay({ label: 'profile', env: { NODE_OPTIONS: `--require ${hook}`, BENCH_CPU_PROF_DIR: dir } });
  const pids = new Map(stack.services.map((s) => [s.child.pid, s.name]));
  try {
    const keys = await createUsers(stack, users);
    await runJobs(stack, warmup, keys); // warm-up (JIT), not profiled
    for (const s of stack.services) if (s.name !== 'provider-sim') s.child.kill('SIGUSR2');
    await runJobs(stack, jobs, keys);
  } finally {
    await stack.stop(); // SIGTERM: each service exits normally, which writes its profile
  }
  const profiles = profilesIn(dir)
    .map((f) => ({ service: pids.get(Number(/CPU\.(\d+)\.cpuprofile$/.exec(f)?.[1])), ...summariseProfile(f) }))
    .filter((p) => p.service)
    .sort((a, b) => b.busyMs - a.busyMs);
  if (!process.env.BENCH_KEEP_PROFILES) rmSync(dir, { recursive: true, force: true });
  for (const p of profiles) log(`profile: ${p.service} busy ${(p.busyMs / 1000).toFixed(1)} s of ${(p.wallMs / 1000).toFixed(1)} s`);
  return { jobs, profiles };
}

function readFrom(file, offset) {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function kindOf(sql) {
  const s = sql.trim().replace(/\s+/g, ' ');
  const verb = s.split(' ')[0].toUpperCase();
  if (['BEGIN', 'COMMIT', 'ROLLBACK', 'START'].includes(verb)) return `${verb === 'START' ? 'BEGIN' : verb}`;
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([a-z_]+)"?/i.exec(s)?.[1] ?? (/^SELECT\s+([a-z_]+)\(/i.exec(s)?.[1] ? `fn ${/^SELECT\s+([a-z_]+)\(/i.exec(s)[1]}` : '?');
  return `${verb} ${table}`;
}

export async function statementRun({ jobs, users }) {
  let offset;
  try {
    offset = statSync(PG_LOG).size;
  } catch {
    return { available: false, reason: `${PG_LOG} is not readable` };
  }
  const stack = await startReelay({ label: 'stmts', env: { PGOPTIONS: '-c log_statement=all' } });
  const dbName = stack.db.name;
  let jobEvents = 0;
  try {
    // API keys and credits are set up by the CLI before the count starts.
    const keys = await createUsers(stack, users);
    offset = statSync(PG_LOG).size;
    jobEvents = await runJobs(stack, jobs, keys);
  } finally {
    await stack.stop();
  }
  const text = readFrom(PG_LOG, offset);
  const kinds = new Map();
  let total = 0;
  const re = new RegExp(`@${dbName} LOG:  (?:statement|execute [^:]*): ([\\s\\S]*)$`);
  // A multi-line statement continues on lines that do not start with a timestamp.
  const entries = [];
  for (const line of text.split('\n')) {
    if (/^\d{4}-\d{2}-\d{2} /.test(line) || !entries.length) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  for (const entry of entries) {
    const m = re.exec(entry);
    if (!m) continue;
    total++;
    const k = kindOf(m[1]);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const rows = [...kinds.entries()].sort((a, b) => b[1] - a[1]).map(([kind, n]) => ({ kind, n, perJob: n / jobs }));
  log(`statements: ${total} for ${jobs} jobs → ${(total / jobs).toFixed(1)} per job`);
  return { available: true, jobs, jobEvents, total, perJob: total / jobs, perEvent: total / jobEvents, kinds: rows };
}
