// reelay end to end: jobs submitted over HTTP to the gateway, through intake, dispatch, polling
// and notification (each its own process) to `succeeded`, against the provider simulator with an
// instant task (`success_after=1`: the first status check finds it done). Every figure comes from
// the event log (`recorded_at`), so "succeeded" means durably recorded in PostgreSQL.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { medianIndex } from './lib/rounds.mjs';
import { ROOT, TERMINAL_TYPES, cpuMeter, waitJobsEnded, cpuTotal, createUsers, histogramBuckets, histogramQuantile, instantJob, log, pgClient, pidsNamed, sleep, startReelay, submitJob, summary } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const { connect } = require('@nats-io/transport-node');
const { jetstreamManager } = require('@nats-io/jetstream');
const { eventStreamName } = require(join(ROOT, 'libs/messaging/dist/index.js'));


async function outcomes(db, ids) {
  const { rows } = await db.query(
    `SELECT type, count(*)::int AS n, min(recorded_at) AS first, max(recorded_at) AS last FROM events WHERE stream_id = ANY($1) AND type = ANY($2) GROUP BY type`,
    [ids.map((id) => `job-${id}`), ['JobSubmitted', ...TERMINAL_TYPES]],
  );
  return Object.fromEntries(rows.map((r) => [r.type, r]));
}

// One submit at a time per user: intake answers concurrent submits of the same user with a 500
// (the credit ledger append loses the optimistic-concurrency race and is not retried).

/** Closed loop: at most `concurrency` submits in flight (one per user), as fast as the gateway answers. */
async function submitClosedLoop(gateway, keys, n, concurrency, offset) {
  const ids = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, keys.length) }, async (_, w) => {
      while (next < n) {
        const i = next++;
        const job = await submitJob(gateway, keys[w], instantJob(offset + i));
        ids.push(job.id);
      }
    }),
  );
  return ids;
}

/** Open loop: job i is sent at start + i / rate, whatever the answers do. */
async function submitOpenLoop(gateway, keys, rate, seconds, offset) {
  const n = Math.max(1, Math.round(rate * seconds));
  const ids = [];
  const sends = [];
  const start = performance.now();
  let late = 0;
  const chains = keys.map(() => Promise.resolve());
  const errors = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -50) late++;
    const k = i % keys.length;
    chains[k] = chains[k].then(() =>
      submitJob(gateway, keys[k], instantJob(offset + i)).then(
        (j) => void ids.push(j.id),
        (err) => void errors.push(err),
      ),
    );
    sends.push(chains[k]);
  }
  await Promise.all(sends);
  if (errors.length) throw new Error(`${errors.length} of ${n} submits failed; first: ${errors[0].message}`);
  return { ids, n, late, seconds: (performance.now() - start) / 1000 };
}

const ms = (a, b) => new Date(b).getTime() - new Date(a).getTime();

/** The parts of "running → succeeded" that polling times itself (its Prometheus histograms), by id. */
const INSIDE = [
  ['firstCheck', 'first check claimed after acceptance (relay hop, follow, claim; POLL_SCHEDULE_MS starts at 0)', 'reelay_poll_check_lateness_seconds', null],
  ['statusCall', 'provider status call', 'reelay_provider_call_seconds', 'operation="check"'],
  ['copy', 'output copy (download, durable write, probe)', 'reelay_provider_call_seconds', 'operation="fetch_output"'],
  ['fileSync', 'of which: the output file\'s fsync', 'reelay_storage_sync_seconds', 'target="file"'],
  ['dirSync', 'of which: waiting for the directory sync that covers its rename', 'reelay_storage_sync_seconds', 'target="directory"'],
];

async function pollingHistograms(polling) {
  const text = await (await fetch(`${polling.url}/metrics`)).text();
  return INSIDE.map(([, , name, label]) => histogramBuckets(text, name, label));
}

function splitOf(before, after) {
  return INSIDE.map(([id, part], i) => {
    const q = (p) => histogramQuantile(after[i], before[i], p);
    return { id, part, n: q(50).count, p50: q(50).value * 1000, p99: q(99).value * 1000, p99Bucket: q(99).bucket };
  });
}

async function transitionLatencies(db, ids) {
  const { rows } = await db.query(
    `SELECT stream_id, type, recorded_at FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, stream_version`,
    [ids.map((id) => `job-${id}`)],
  );
  const byJob = new Map();
  for (const r of rows) {
    if (!byJob.has(r.stream_id)) byJob.set(r.stream_id, []);
    byJob.get(r.stream_id).push(r);
  }
  const t = { 'queued → validating': [], 'validating → running (validated, intent, accepted)': [], 'running → succeeded (check, output copy)': [], 'submit → succeeded': [] };
  const steps = new Map();
  for (const events of byJob.values()) {
    const at = Object.fromEntries(events.map((e) => [e.type, e.recorded_at]));
    if (!at.JobSucceeded) continue;
    t['queued → validating'].push(ms(at.JobSubmitted, at.JobValidationStarted));
    t['validating → running (validated, intent, accepted)'].push(ms(at.JobValidationStarted, at.JobProviderAccepted));
    t['running → succeeded (check, output copy)'].push(ms(at.JobProviderAccepted, at.JobSucceeded));
    t['submit → succeeded'].push(ms(at.JobSubmitted, at.JobSucceeded));
    for (let i = 1; i < events.length; i++) {
      const step = `${events[i - 1].type} → ${events[i].type}`;
      if (!steps.has(step)) steps.set(step, []);
      steps.get(step).push(ms(events[i - 1].recorded_at, events[i].recorded_at));
    }
  }
  return {
    transitions: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summary(v)])),
    steps: Object.fromEntries([...steps].map(([k, v]) => [k, summary(v)])),
  };
}

/** The consumers of the stack's events stream as they are now, and the server's version. */
async function eventConsumers(stack) {
  const nc = await connect({ servers: stack.env.NATS_URL });
  try {
    const consumers = [];
    for await (const c of (await jetstreamManager(nc)).consumers.list(eventStreamName(stack.env.NATS_PREFIX))) consumers.push(c);
    return { server: nc.info?.version ?? 'unknown', consumers };
  } finally {
    await nc.close();
  }
}

/** Messages each durable consumer of the events stream has delivered so far (redeliveries included). */
async function consumerDeliveries(stack) {
  const { server, consumers } = await eventConsumers(stack);
  return { server, consumers: Object.fromEntries(consumers.map((c) => [c.name, { delivered: c.delivered.consumer_seq, filters: c.config.filter_subjects ?? [c.config.filter_subject] }])) };
}

/** Waits until every consumer of the events stream has taken and acked everything (terminal events trail JobSucceeded). */
async function consumersIdle(stack, timeoutMs = 30_000) {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(200)) {
    const { consumers } = await eventConsumers(stack);
    if (consumers.every((c) => c.num_pending + c.num_ack_pending === 0)) return;
  }
}

/** Scans and rows read per table of the bench database, from PostgreSQL's statistics. */
async function tableReads(db) {
  const { rows } = await db.query(`SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables`);
  return new Map(rows.map((r) => [r.relname, { seqScans: Number(r.seq_scan), seqRows: Number(r.seq_tup_read), indexScans: Number(r.idx_scan) }]));
}

function perJobReads(before, after, jobs) {
  const out = [];
  for (const [table, a] of after) {
    const b = before.get(table) ?? { seqScans: 0, seqRows: 0, indexScans: 0 };
    const d = { table, seqScans: (a.seqScans - b.seqScans) / jobs, seqRows: (a.seqRows - b.seqRows) / jobs, indexScans: (a.indexScans - b.indexScans) / jobs };
    if (d.seqScans || d.indexScans) out.push(d);
  }
  return { jobs, tables: out.sort((x, y) => y.seqRows - x.seqRows || y.indexScans - x.indexScans) };
}

/** One closed-loop peak run on a warmed stack: throughput, CPU per job and deliveries per job. */
async function peakRun(stack, db, keys, { jobs, concurrency, offset }) {
  // PostgreSQL's backends come and go with the pools: its pids are listed at each reading.
  const groups = serviceGroups(stack);
  const stopMeter = cpuMeter({ ...groups, postgres: () => pidsNamed('postgres'), nats: pidsNamed('nats-server'), driver: [process.pid] });
  const deliveredBefore = await consumerDeliveries(stack);
  const t0 = Date.now();
  const ids = await submitClosedLoop(stack.gateway.url, keys, jobs, concurrency, offset);
  const submitSeconds = (Date.now() - t0) / 1000;
  await waitJobsEnded(db, ids, Math.max(120_000, jobs * 50));
  // The load generator runs on the same cores; reported apart, not counted in the stack's CPU.
  const { driver, ...cpu } = stopMeter();
  const o = await outcomes(db, ids);
  const succeeded = o.JobSucceeded?.n ?? 0;
  const seconds = ms(new Date(t0), o.JobSucceeded.last) / 1000;
  const cpuPerJobMs = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, { user: (v.user * 1000) / jobs, system: (v.system * 1000) / jobs }]));
  await consumersIdle(stack);
  const deliveredAfter = await consumerDeliveries(stack);
  const deliveries = {
    server: deliveredAfter.server,
    perJob: Object.fromEntries(Object.entries(deliveredAfter.consumers).map(([name, c]) => [name, { perJob: (c.delivered - (deliveredBefore.consumers[name]?.delivered ?? 0)) / jobs, filters: c.filters }])),
  };
  const driverCpuPerJobMs = ((driver.user + driver.system) * 1000) / jobs;
  const peak = { deliveries, jobs, succeeded, failed: o.JobFailed?.n ?? 0, seconds, jobsPerSecond: succeeded / seconds, submitPerSecond: jobs / submitSeconds, concurrency, cpuPerJobMs, driverCpuPerJobMs };
  log(`e2e: ${succeeded}/${jobs} succeeded in ${seconds.toFixed(2)} s → ${peak.jobsPerSecond.toFixed(0)} jobs/s (accepted at ${peak.submitPerSecond.toFixed(0)}/s)`);
  return peak;
}

/** The stack's processes by name for a CPU meter (replicas numbered). */
function serviceGroups(stack) {
  return Object.fromEntries(stack.services.map((s, i) => [stack.services.filter((x, j) => x.name === s.name && j < i).length ? `${s.name} #${i}` : s.name, [s.child.pid]]));
}

/**
 * `rounds` peak runs on the same warmed stack; `betweenRounds(i)` runs after each (the peers, so
 * that each round's ratio compares figures taken minutes apart at most). The stack stays up, idle,
 * meanwhile: its processes' CPU then is reported as `idleBetweenRounds`. `peak` is the median round.
 */
export async function benchE2e({ jobs, warmup = 200, rounds = 1, betweenRounds, concurrency, users, latencySeconds, latencyRate, env = {}, label = 'bench', onStack } = {}) {
  const stack = await startReelay({ label, env });
  const db = pgClient(stack.db.url);
  await db.connect();
  try {
    const keys = await createUsers(stack, users);
    log(`e2e: stack up (${stack.services.length} processes), ${keys.length} users`);
    await onStack?.(stack);
    const warm = await submitClosedLoop(stack.gateway.url, keys, warmup, concurrency, 0);
    await waitJobsEnded(db, warm, 120_000);
    log(`e2e: warm-up of ${warm.length} jobs done; ${rounds} peak run(s) of ${jobs} jobs, ${concurrency} concurrent submits`);

    const readsBefore = await tableReads(db);
    let reads;
    const peaks = [];
    const idle = { seconds: 0, cpuSeconds: 0, quietSeconds: 0, quietCpuSeconds: 0 };
    for (let r = 0; r < rounds; r++) {
      peaks.push(await peakRun(stack, db, keys, { jobs, concurrency, offset: 1_000_000 * (r + 1) }));
      if (r === 0) {
        // Only the first round's scans are counted, not the idle stack's between rounds. A backend
        // reports its table counters when idle, at most about every 10 s (PostgreSQL 15's
        // PGSTAT_IDLE_INTERVAL): wait that long so every scan of the run is counted.
        await sleep(11_000);
        reads = perJobReads(readsBefore, await tableReads(db), jobs);
      }
      if (!betweenRounds) continue;
      // The idle stack with nothing else running: its services and the PostgreSQL and NATS work their
      // polls cause (while the peers run, those two serve the peers too, so only the services are metered).
      const stopQuiet = cpuMeter({ ...serviceGroups(stack), postgres: () => pidsNamed('postgres'), nats: pidsNamed('nats-server') });
      const q = performance.now();
      await sleep(3_000);
      idle.quietSeconds += (performance.now() - q) / 1000;
      idle.quietCpuSeconds += cpuTotal(stopQuiet());
      const stopIdle = cpuMeter(serviceGroups(stack));
      const t = performance.now();
      await betweenRounds(r);
      idle.seconds += (performance.now() - t) / 1000;
      idle.cpuSeconds += cpuTotal(stopIdle());
    }
    const peak = { ...peaks[medianIndex(peaks, (p) => p.jobsPerSecond)], rounds: peaks.map((p) => p.jobsPerSecond) };
    const idleBetweenRounds = betweenRounds ? idle : null;

    const rate = latencyRate ?? Math.max(1, Math.round(peak.jobsPerSecond / 2));
    log(`e2e: latency run at ${rate} jobs/s for ${latencySeconds} s (open loop)`);
    const polling = stack.services.find((s) => s.name === 'polling');
    const before = await pollingHistograms(polling);
    const open = await submitOpenLoop(stack.gateway.url, keys, rate, latencySeconds, 1_000_000 * (rounds + 1));
    await waitJobsEnded(db, open.ids, 180_000);
    const { transitions: lat, steps } = await transitionLatencies(db, open.ids);
    const lo = await outcomes(db, open.ids);
    const inside = splitOf(before, await pollingHistograms(polling));
    const latency = { rate, jobs: open.n, succeeded: lo.JobSucceeded?.n ?? 0, lateSends: open.late, sendSeconds: open.seconds, transitions: lat, steps, inside };
    for (const [k, v] of Object.entries(lat)) log(`  ${k}: p50 ${v.p50} ms, p99 ${v.p99} ms (n=${v.n})`);
    return { peak, idleBetweenRounds, latency, reads, processes: stack.services.map((s) => s.name) };
  } catch (err) {
    for (const s of stack.services) console.error(`--- ${s.name} output (tail)\n${s.output().slice(-3000)}`);
    throw err;
  } finally {
    await db.end();
    await stack.stop();
  }
}
