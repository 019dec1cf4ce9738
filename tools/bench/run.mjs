#!/usr/bin/env node
// `npm run bench`: measures and writes docs/benchmarks.md. Knobs (defaults keep it near 13 minutes
// on 2 cores): BENCH_SCALE (event log sizes), BENCH_WARMUP, BENCH_JOBS, BENCH_CONCURRENCY, BENCH_LATENCY_SECONDS,
// BENCH_REPLICAS, BENCH_INFLIGHT, BENCH_INFLIGHT_INTERVAL_MS, BENCH_INFLIGHT_SECONDS,
// BENCH_ROUNDS, BENCH_PEER_JOBS, BENCH_PEER_WARMUP, BENCH_PROFILE_JOBS, BENCH_PROFILE_WARMUP, BENCH_PERF_JOBS, BENCH_STMT_JOBS, BENCH_ONLY (comma list of sections:
// eventlog,e2e,inflight,peers,diagnose).
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from './machine.mjs';
import { benchEventStore } from './event-store.bench.mjs';
import { benchE2e } from './e2e.bench.mjs';
import { benchInflight } from './inflight.bench.mjs';
import { benchPeers, peerSettings, redisInfo } from './peers.bench.mjs';
import { profileRun, statementRun } from './diagnose.bench.mjs';
import { benchCopies } from './copy.bench.mjs';
import { benchSlots } from './slots.bench.mjs';
import { benchDelivery } from './delivery.bench.mjs';
import { perfRun } from './perf.bench.mjs';
import { pgWaitRun } from './pg-waits.bench.mjs';
import { peerMedians, roundRatios } from './lib/rounds.mjs';
import { cpuTotal, fmt, log, num, reelayEnv, replicasFromEnv, ROOT } from './lib/common.mjs';

const only = new Set((process.env.BENCH_ONLY ?? 'eventlog,e2e,inflight,peers,diagnose').split(',').map((s) => s.trim()));
const cfg = {
  scale: num('BENCH_SCALE', 1),
  warmup: num('BENCH_WARMUP', 3000),
  jobs: num('BENCH_JOBS', 3000),
  concurrency: num('BENCH_CONCURRENCY', 64),
  latencySeconds: num('BENCH_LATENCY_SECONDS', 20),
  inflight: num('BENCH_INFLIGHT', 100_000),
  inflightIntervalMs: num('BENCH_INFLIGHT_INTERVAL_MS', 60_000),
  inflightSeconds: num('BENCH_INFLIGHT_SECONDS', 70),
  rounds: num('BENCH_ROUNDS', 3),
  peerJobs: num('BENCH_PEER_JOBS', 20_000),
  peerWarmup: num('BENCH_PEER_WARMUP', 3000),
  profileJobs: num('BENCH_PROFILE_JOBS', 500),
  profileWarmup: num('BENCH_PROFILE_WARMUP', 1000),
  perfJobs: num('BENCH_PERF_JOBS', 2000),
  stmtJobs: num('BENCH_STMT_JOBS', 200),
};
const started = Date.now();
const machine = machineInfo();
const loadBefore = loadavg();
const redis = await redisInfo();
let nats = 'unknown';
try {
  nats = (await (await fetch('http://127.0.0.1:8222/varz')).json()).version;
} catch {
  try {
    nats = execSync('nats-server --version', { encoding: 'utf8' }).trim();
  } catch {}
}
log('machine', machine, 'load', loadBefore.map((l) => l.toFixed(2)).join(' '), 'settings', cfg);

const R = {};
if (only.has('eventlog')) R.es = await benchEventStore({ scale: cfg.scale });
if (only.has('eventlog')) R.slots = await benchSlots();
// With both sections, reelay's peak runs and the peers' alternate (see lib/rounds.mjs).
const peerRounds = [];
const runPeers = async () => void peerRounds.push(await benchPeers({ jobs: cfg.peerJobs, warmup: cfg.peerWarmup }));
if (only.has('e2e')) {
  R.e2e = await benchE2e({
    jobs: cfg.jobs,
    warmup: cfg.warmup,
    rounds: only.has('peers') ? cfg.rounds : 1,
    betweenRounds: only.has('peers') ? runPeers : undefined,
    concurrency: cfg.concurrency,
    users: cfg.concurrency,
    latencySeconds: cfg.latencySeconds,
  });
}
if (only.has('peers') && !only.has('e2e')) for (let r = 0; r < cfg.rounds; r++) await runPeers();
if (only.has('peers')) R.peers = peerMedians(peerRounds);
if (only.has('inflight')) R.inflight = await benchInflight({ jobs: cfg.inflight, intervalMs: cfg.inflightIntervalMs, measureSeconds: cfg.inflightSeconds });
if (only.has('diagnose')) {
  // perf first: the stack before it (in flight) wrote no output files, while each run below removes
  // a stack's outputs, after which ext4's inode search inflates polling's CPU for a minute or so.
  R.perf = await perfRun({ warmup: cfg.warmup, jobs: cfg.perfJobs, users: cfg.concurrency });
  R.stmts = await statementRun({ jobs: cfg.stmtJobs, users: 16 });
  R.profile = await profileRun({ jobs: cfg.profileJobs, warmup: cfg.profileWarmup, users: cfg.concurrency });
  R.copies = await benchCopies({ burst: cfg.concurrency / 2 });
  R.delivery = await benchDelivery();
  R.pgWaits = await pgWaitRun({ warmup: cfg.profileWarmup, jobs: cfg.perfJobs, users: cfg.concurrency });
}
const loadAfter = loadavg();
const minutes = (Date.now() - started) / 60_000;

// ---------- the page ----------
const pass = (ok) => (ok ? '**met**' : '**missed**');
/** The RSS target is in megabytes (10^6 bytes); the figures are MiB. */
const withinMB = (mib) => mib * 1.048576 <= 300;
/** A lateness p99 counts only with the checks the schedule asks for made: a backlog never claimed has no lateness yet. */
const inflightLatenessMet = (f) => f.latenessP99 <= 1 && f.checksPerSecond >= f.requiredChecksPerSecond * 0.99;
const ms = (v) => `${fmt(v)} ms`;
const sections = [];

if (R.es) {
  const row = (label, r) => `| ${label} | ${fmt(r.n)} | ${r.seconds.toFixed(2)} s | **${fmt(r.perSecond)}** events/s |`;
  sections.push(`## Event log (PostgreSQL)

tools/bench/event-store.bench.mjs. Each append validates the events against their schemas and
checks the stream's expected version. One caller's appends are one transaction each; the appends
that concurrent callers of one store make during a round trip go as one group commit
(\`reelay_append_groups\`, one transaction, each append still all-or-nothing). The batched form
appends to 100 streams in one transaction (multi-row INSERT). The reader uses the transaction-id horizon
(libs/event-store/src/log/read-all.ts), so its rate includes the safety against late commits.

| measurement | events | time | rate |
|---|---|---|---|
${row('append, 1 event per transaction, 1 writer', R.es.appendSingle)}
${row('append, 1 event per call, 8 callers of one store (group commits)', R.es.appendSingle8)}
${row('append, 1 event per call, 64 callers of one store (group commits)', R.es.appendConcurrent64)}
${row('appendMany, 100 streams × 1 event per transaction', R.es.appendBatched)}
${row('log reader: whole log in commit order, pages of 1,000', R.es.replay)}`);
}

if (R.slots) {
  const cell = (t) => `${fmt(t.mean, 2)} / ${fmt(t.p50, 2)} ms`;
  sections.push(`## Provider slot acquires (PostgreSQL)

tools/bench/slots.bench.mjs. One batch of ${R.slots.batch} acquires at one provider, ${fmt(R.slots.runs)} times, with
some slots already in use; the rows a batch adds are deleted after it. "Per request" is
\`reelay_acquire_provider_slots\` as dispatch migration 0003 made it (one acquire after another, each
counting the provider's slots); "one pass" is migration 0004 (each provider counted once). Both
give the same answers (apps/dispatch/src/circuit/provider-circuit.int.spec.ts). "In line" is
migration 0007, which dispatch uses: one pass, and each request's place in the provider's waiting
line (here every request is in line and nobody waits, as when a provider has room).

| slots in use | per request (mean / p50) | one pass (mean / p50) | in line (mean / p50) |
|---|---|---|---|
${R.slots.rows.map((r) => `| ${fmt(r.held)} | ${cell(r.loop)} | ${cell(r.onePass)} | **${r.inLine ? cell(r.inLine) : '–'}** |`).join('\n')}`);
}

const env = reelayEnv();
function cpuRows(c) {
  const rows = Object.entries(c ?? {}).sort((a, b) => b[1].user + b[1].system - (a[1].user + a[1].system));
  return [...rows.map(([k, v]) => `| ${k} | ${fmt(v.user, 1)} ms | ${fmt(v.system, 1)} ms | ${fmt(v.user + v.system, 1)} ms |`), `| **all** | | | **${fmt(cpuTotal(c), 1)} ms** |`].join('\n');
}
if (R.e2e) {
  const p = R.e2e.peak;
  const l = R.e2e.latency;
  const rows = Object.entries(l.transitions).map(([k, v]) => `| ${k} | ${fmt(v.n)} | ${ms(v.p50)} | ${ms(v.p90)} | ${ms(v.p99)} | ${ms(v.max)} | ${k === 'submit → succeeded' ? '–' : pass(v.p99 <= 50)} |`);
  sections.push(`## reelay end to end

tools/bench/e2e.bench.mjs. Processes: ${R.e2e.processes.join(', ')} (replicas per worker: ${JSON.stringify(replicasFromEnv())}),
each \`node apps/<name>/dist/main.js\`, started like the e2e tests (\`startStack\` of libs/testing) on a
fresh database and NATS prefix. Jobs: \`gen4.5\` (Runway through the simulator) with the scenario
\`success_after=1\`, so the first status check finds the task done; polling then copies the 2 s MP4
into storage and checks it before \`succeeded\`. ${cfg.concurrency} users, each submitting one job at a time
over HTTP (closed loop, ${cfg.concurrency} submits in flight). Throughput = jobs / (first submit → last
\`JobSucceeded\` recorded in the log), after a warm-up of ${fmt(cfg.warmup)} jobs on the same processes. The services are
long-running, so the figure is their steady state: V8 is still compiling hot code during the first
few thousand jobs. Measured once outside this script (\`perf record -a -e cpu-clock\` over a peak run,
services under \`--perf-basic-prof\`, V8 compiler symbols summed): TurboFan took 14.6 % of all the
machine's CPU after a warm-up of 400 jobs, and 2.5 % after 4,000.
${p.rounds.length > 1 ? `
The peak run is repeated ${p.rounds.length} times on the same warmed stack, and the peers' pipelines run
between the repeats (see "The alternatives"), so that reelay and the peers are measured minutes
apart at most: the speed of this shared machine drifts by up to 2× within a quarter of an hour.
Peak runs in order: ${p.rounds.map((x) => `${fmt(x)} jobs/s`).join(', ')}; the tables below are the median run's.${R.e2e.idleBetweenRounds ? ` While the
peers ran, reelay's idle processes (pollers' claims, relay and projection polls) used ${fmt((R.e2e.idleBetweenRounds.cpuSeconds / R.e2e.idleBetweenRounds.seconds) * 100, 1)} % of one core; with the
PostgreSQL and NATS work those polls cause (metered for ${fmt(R.e2e.idleBetweenRounds.quietSeconds, 0)} s before the peers, nothing else running) the idle
stack took ${fmt((R.e2e.idleBetweenRounds.quietCpuSeconds / R.e2e.idleBetweenRounds.quietSeconds) * 100, 1)} % of one core, which the peers shared the cores with.` : ''}
` : ''}
Settings: ${Object.entries(env).filter(([k]) => k !== 'LOG_LEVEL').map(([k, v]) => `\`${k}=${v}\``).join(', ')}.

| jobs | succeeded | failed | time | accepted by the gateway | **end-to-end** |
|---|---|---|---|---|---|
| ${fmt(p.jobs)} | ${fmt(p.succeeded)} | ${fmt(p.failed)} | ${p.seconds.toFixed(2)} s | ${fmt(p.submitPerSecond)} jobs/s | **${fmt(p.jobsPerSecond)} jobs/s** |

CPU per job in this run, from /proc (user and system time of each process over the peak run,
divided by its jobs; process CPU time, so unlike a profile's samples it leaves out time spent
waiting for a core):

| process | user | system | total |
|---|---|---|---|
${cpuRows(p.cpuPerJobMs)}

Polling's share includes creating one file per output, and on ext4 that cost depends on the
disk's recent past: the inode allocator passes over inodes freed in the last minute or so
(\`recently_deleted()\` in fs/ext4/ialloc.c, checked when the filesystem has no journal). Right
after another run removed its thousands of files, creating an empty file cost up to 0.85 ms of CPU
here instead of 0.04 ms, and perf put 40 % of polling's CPU in that search. The event-log sections
before this one remove no files; a run started right after the tests or another run of the bench
shows a costlier polling. The output's bytes cost more here than they would on most hosts too: a
new file's data goes into page-cache pages the guest has not used before, and the first use of
guest memory is slow on this VM, most likely because the hypervisor backs it on first touch
(writing a new 150 KB file cost 0.77 ms of CPU, rewriting the same file 0.10 ms; perf put 27 % of
polling's CPU in that memory copy). Once the page cache has filled memory, the kernel reuses pages.
${p.driverCpuPerJobMs !== undefined ? `\nThe bench process itself, the ${cfg.concurrency} users submitting over HTTP (Node's http client on keep-alive
connections), took ${fmt(p.driverCpuPerJobMs, 1)} ms of CPU per job on the same cores, not counted above.
` : ''}${p.deliveries ? `
JetStream deliveries per job in the peak run, per durable consumer (its \`delivered\` count before
and after, divided by the jobs; nats-server ${p.deliveries.server}). A consumer of several event types
is one durable per event type
(\`<durable>-<Type>\`), so an event is delivered only to the consumers that asked
for its type:

| consumer | server-side filter | deliveries per job |
|---|---|---|
${Object.entries(p.deliveries.perJob).sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => `| ${name} | \`${c.filters.join('`, `')}\` | ${fmt(c.perJob, 1)} |`).join('\n')}
| **all** | | **${fmt(Object.values(p.deliveries.perJob).reduce((a, c) => a + c.perJob, 0), 1)}** |
` : ''}
### Latency per transition at half the peak rate

Open loop at ${fmt(l.rate)} jobs/s for ${cfg.latencySeconds} s (${fmt(l.jobs)} jobs, ${fmt(l.succeeded)} succeeded; ${fmt(l.lateSends)} sends left more than 50 ms late
by the client). Times are differences of the events' \`recorded_at\` (transaction start, PostgreSQL's
clock). "validating → running" spans JobValidated, JobSubmissionIntended, the provider call and
JobProviderAccepted; "running → succeeded" spans the first check (due at once), the provider call,
the output copy and JobSucceeded. Target: p99 ≤ 50 ms per transition.

| transition | jobs | p50 | p90 | p99 | max | p99 ≤ 50 ms |
|---|---|---|---|---|---|---|
${rows.join('\n')}
${l.steps ? `
Step by step: each pair of consecutive events of a job (the same runs; a step with no time
between its events was appended with the one before it). A step that crosses services includes
the relay's hop (commit → JetStream → the next service's consumer):

| step | jobs | p50 | p90 | p99 |
|---|---|---|---|---|
${Object.entries(l.steps).map(([k, v]) => `| ${k} | ${fmt(v.n)} | ${ms(v.p50)} | ${ms(v.p90)} | ${ms(v.p99)} |`).join('\n')}
` : ''}${l.inside ? `
Inside "running → succeeded", from polling's own histograms over the same run (p-values
interpolated inside the bucket, so approximate):

| part | samples | p50 | p99 |
|---|---|---|---|
${l.inside.map((x) => `| ${x.part} | ${fmt(x.n)} | ${fmt(x.p50)} ms | ${fmt(x.p99)} ms (bucket ${x.p99Bucket}) |`).join('\n')}
` : ''}${R.e2e.reads ? `
### Table reads

Scans per job of each table of the bench database over the first peak run
(${fmt(R.e2e.reads.jobs)} jobs; PostgreSQL's \`pg_stat_user_tables\` before and after). The tables are
young, small and not yet analyzed, as in a new deployment: a statement that reads a table whole
instead of by key shows here as rows per job that grow with the table. The bench's own queries
count too: while it waits for the jobs to end it looks every 500 ms for the terminal events of the
jobs still unfinished (\`stream_id = ANY\`, by key).

| table | sequential scans per job | rows read by them per job | index scans per job |
|---|---|---|---|
${R.e2e.reads.tables.map((t) => `| ${t.table} | ${t.seqScans.toFixed(2)} | ${fmt(t.seqRows, 1)} | ${t.indexScans.toFixed(2)} |`).join('\n')}
` : ''}`);
}

if (R.inflight) {
  const f = R.inflight;
  const procRows = f.procs.map((p) => `| ${p.name} | ${fmt(p.rssMiB)} MiB | ${fmt(p.maxRssMiB)} MiB | ${fmt(p.cpuPercent)} % | ${pass(withinMB(p.maxRssMiB))} |`);
  sections.push(`## In-flight capacity

tools/bench/inflight.bench.mjs. ${fmt(f.jobs)} jobs running at a slow provider (simulator tasks with
\`never_finish\`), all past their first five checks (\`delayed\`), so each is checked every
${fmt(f.intervalMs / 1000)} s (\`POLL_DELAYED_INTERVAL_MS\`, the production default): polling must make
${fmt(f.requiredChecksPerSecond)} checks/s. **Set-up is direct, not over HTTP**: the simulator creates the tasks in bulk
(\`POST /_sim/tasks/bulk\`), the jobs' streams (6 events each: submitted → validation started →
validated → intent → accepted → delayed) are appended with \`appendMany\` (${f.appendSeconds.toFixed(1)} s), and
their \`poll_schedule\` rows are inserted with due times spread evenly over one interval, all while
the services are stopped; the relay and projection checkpoints are then moved past those events so
they are not re-published, and the services restarted (set-up ${f.setupSeconds.toFixed(0)} s).
Polling runs one replica with \`POLL_CONCURRENCY\`=${f.pollConcurrency} (checks at once; the default, 16, suits
a provider's rate limit rather than 100k jobs) and \`POLL_TICK_MS\`=${reelayEnv().POLL_TICK_MS} (the default is 250: a claim round
at most that long after a slot frees, so the default adds up to a quarter second to the lateness). The first ${f.warmupSeconds} s of due checks are the restarted
process's warm-up (JIT, connection pools): the oldest overdue check then was ${f.warmup.maxOverdueSeconds.toFixed(1)} s
(${fmt(f.warmup.maxWaiting)} waiting at most); the figures below are the ${f.measureSeconds.toFixed(0)} s after it. Lateness = claim time −
due time, from polling's \`reelay_poll_check_lateness_seconds\` histogram (p-values interpolated inside
the bucket); "oldest overdue" samples the schedule every 2 s.

| jobs in flight | checks needed | checks made | lateness p50 | lateness p99 | oldest overdue seen | p99 ≤ 1 s |
|---|---|---|---|---|---|---|
| ${fmt(f.jobs)} | ${fmt(f.requiredChecksPerSecond)}/s | ${fmt(f.checksPerSecond)}/s (${fmt(f.checks)}) | ${f.latenessP50.toFixed(2)} s | ${f.latenessP99.toFixed(2)} s (bucket ${f.latenessP99Bucket}) | ${f.maxOverdueSeconds.toFixed(1)} s | ${pass(inflightLatenessMet(f))} |

| service | RSS at the end | max RSS seen | CPU (of one core) | ≤ 300 MB (286 MiB) |
|---|---|---|---|---|
${procRows.join('\n')}

The simulator process held ${fmt(f.simRssMiB)} MiB and used ${fmt(f.simCpuPercent)} % of a core.`);
}

let ratios = '';
if (R.peers) {
  const s = peerSettings();
  const pr = R.peers;
  sections.push(`## The alternatives: the same four stages

tools/bench/peers.bench.mjs and tools/bench/peers/stage-*.mjs. validate → dispatch → poll → notify,
each stage its own process doing a trivial unit of work (stamp the job) and handing it to the next;
the bench process enqueues ${fmt(cfg.peerJobs)} jobs (~300-byte JSON) and the time runs from the first
enqueue to the last stage's last job. Before that, ${fmt(cfg.peerWarmup)} jobs go through the same stage
processes untimed (reelay's stack is warmed up too). ${pr.bullmq.rounds.length} rounds${R.e2e ? ", each after one of reelay's peak runs" : ''}; the table gives each
pipeline's median round, then every round in order.

| pipeline | settings | durability | jobs/s | rounds |
|---|---|---|---|---|
| BullMQ ${JSON.parse(execSync('npm ls bullmq --json --depth=0', { cwd: ROOT, encoding: 'utf8' })).dependencies?.bullmq?.version ?? ''} on Redis ${redis.version} | Worker concurrency ${s.bullmq.concurrency}; \`addBulk\` of 1,000 by the producer; \`add\` per job between stages; removeOnComplete | Redis appendonly=${redis.appendonly}, save='${redis.save}' | **${fmt(pr.bullmq.jobsPerSecond)}** | ${pr.bullmq.rounds.map((x) => fmt(x)).join(', ')} |
| pg-boss 10.4.2 on PostgreSQL | ${s.pgboss.workers} \`work()\` loops per stage, batchSize ${s.pgboss.batchSize}, pollingIntervalSeconds 0.5 (the least pg-boss allows), the loop woken at once after a full batch (\`notifyWorker\`: pg-boss otherwise sleeps out the interval after every fetch); one \`insert()\` per batch to the next queue | PostgreSQL, fsync on | **${fmt(pr.pgboss.jobsPerSecond)}** | ${pr.pgboss.rounds.map((x) => fmt(x)).join(', ')} |
| JetStream (no database) | durable pull consumers, \`consume()\` batches of ${s.jetstream.batch}, ≤1,000 publishes awaiting acks, \`noAsyncTraces\` | file stream, NATS defaults | **${fmt(pr.jetstream.jobsPerSecond)}** | ${pr.jetstream.rounds.map((x) => fmt(x)).join(', ')} |`);
  if (R.e2e) {
    // Each round's reelay over the same round's peers; the median of those ratios is the figure.
    const rr = roundRatios(R.e2e.peak.rounds, peerRounds);
    const each = (k) => (rr.rounds.length > 1 ? ` (rounds: ${rr.rounds.map((x) => `${x[k].toFixed(2)}×`).join(', ')})` : '');
    ratios = `| reelay e2e vs the better of BullMQ / pg-boss (${fmt(rr.best)} jobs/s) | ≥ 1.0× | ${rr.vsBest.toFixed(2)}×${each('vsBest')} | ${pass(rr.vsBest >= 1)} |
| reelay e2e vs the JetStream-only ceiling (${fmt(rr.jetstream)} jobs/s) | ≥ 0.8× | ${rr.vsJetStream.toFixed(2)}×${each('vsJetStream')} | ${pass(rr.vsJetStream >= 0.8)} |`;
  }
}

const targets = [ratios];
if (R.e2e) {
  for (const [k, v] of Object.entries(R.e2e.latency.transitions)) if (k !== 'submit → succeeded') targets.push(`| p99 ${k} | ≤ 50 ms | ${ms(v.p99)} | ${pass(v.p99 <= 50)} |`);
}
if (R.inflight) {
  targets.push(`| ${fmt(R.inflight.jobs)} in flight: check lateness p99 (and every check the schedule asks for made) | ≤ 1 s | ${R.inflight.latenessP99.toFixed(2)} s, ${fmt(R.inflight.checksPerSecond)} of ${fmt(R.inflight.requiredChecksPerSecond)} checks/s | ${pass(inflightLatenessMet(R.inflight))} |`);
  const worst = R.inflight.procs.reduce((a, b) => (b.maxRssMiB > a.maxRssMiB ? b : a));
  targets.push(`| ${fmt(R.inflight.jobs)} in flight: RSS per service (largest: ${worst.name}) | ≤ 300 MB (286 MiB) | ${fmt(worst.maxRssMiB)} MiB | ${pass(withinMB(worst.maxRssMiB))} |`);
}

if (R.stmts || R.profile) {
  const st = R.stmts;
  const stTable = st?.available
    ? `${fmt(st.jobs)} instant jobs with \`log_statement=all\` on the bench database (pg_stat_statements is
not preloaded on this server): **${st.perJob.toFixed(1)} statements per job**, ${st.perEvent.toFixed(1)} per job event
(${fmt(st.jobEvents)} job events). Idle work (pollers' claims, relay and projection reads) is included, so
the per-job figure falls as the rate rises.

| statement | count | per job |
|---|---|---|
${st.kinds.slice(0, 15).map((k) => `| ${k.kind} | ${fmt(k.n)} | ${k.perJob.toFixed(2)} |`).join('\n')}`
    : `Not measured: ${st?.reason ?? 'skipped'}.`;
  const prof = (R.profile?.profiles ?? []).slice(0, 3).map((p) => `### ${p.service}: ${(p.busyMs / 1000).toFixed(1)} s of CPU in ${(p.wallMs / 1000).toFixed(1)} s

| self time by origin | share | | top functions by self time | share |
|---|---|---|---|---|
${Array.from({ length: 10 }, (_, i) => {
  const o = p.origins[i];
  const f = p.functions[i];
  return `| ${o ? o.name : ''} | ${o ? `${(o.share * 100).toFixed(1)} %` : ''} | | ${f ? `\`${f.name.replace(/\|/g, '\\|')}\`` : ''} | ${f ? `${(f.share * 100).toFixed(1)} %` : ''} |`;
}).join('\n')}`);
  sections.push(`## Where the time goes

### Round trips
${stTable}

${deliverySection()}${perfSection()}${pgWaitSection()}### CPU profiles

${fmt(R.profile?.jobs ?? 0)} instant jobs (after a warm-up of ${fmt(cfg.profileWarmup)}, which is not profiled) with every service sampled by
the V8 profiler (1 ms interval, from SIGUSR2 to exit;
tools/bench/lib/cpu-prof-hook.cjs loaded with \`NODE_OPTIONS=--require …\`, since Node 20 refuses
\`--cpu-prof\` in NODE_OPTIONS; summarised by tools/bench/lib/cpuprofile.mjs). The three busiest
services:

${prof.join('\n\n')}`);
}

/** "What a JetStream delivery costs": the delivery bench's table, when it ran. */
function deliverySection() {
  if (!R.delivery) return '';
  const d = R.delivery;
  return `### What a JetStream delivery costs

tools/bench/delivery.bench.mjs: ${fmt(d.messages)} job events in a stream, consumed by one process
(64 at a time) in four ways; CPU time of that process per message (user + system), the median of
${d.rounds} interleaved runs. No handler work: this is what every delivery costs before it.

| consumer | CPU per message | messages/s |
|---|---|---|
${d.rows.map((r) => `| ${r.label} | ${fmt(r.cpuMicros, 1)} µs | ${fmt(r.perSecond)} |`).join('\n')}

`;
}

// Why: derived from this run's own figures, so the explanation stays true when the numbers move.
const why = [];
if (R.e2e?.peak.cpuPerJobMs) {
  const c = R.e2e.peak.cpuPerJobMs;
  const total = cpuTotal(c);
  const services = Object.entries(c).filter(([k]) => !['postgres', 'nats', 'provider-sim'].includes(k));
  const svc = services.reduce((a, [, v]) => a + v.user + v.system, 0);
  const sys = services.reduce((a, [, v]) => a + v.system, 0);
  const hot = services.sort((a, b) => b[1].user + b[1].system - (a[1].user + a[1].system))[0];
  why.push(`- **CPU per job.** In the peak run every job cost **${fmt(total)} ms of CPU** (/proc): ${fmt(svc)} ms in reelay's processes (the most in ${hot[0]}, ${fmt(hot[1].user + hot[1].system, 1)} ms), ${fmt((c.postgres?.user ?? 0) + (c.postgres?.system ?? 0))} ms in PostgreSQL, ${fmt((c.nats?.user ?? 0) + (c.nats?.system ?? 0))} ms in NATS and the rest in the simulator, so ${machine.cores} cores cannot pass ~${fmt((machine.cores * 1000) / total)} jobs/s.${R.peers ? ` A peer pipeline at its rate here can spend at most ${machine.cores} cores' time over its jobs: ${fmt((machine.cores * 1000) / R.peers.pgboss.jobsPerSecond, 2)} ms per job for all four stages on pg-boss, PostgreSQL included, ${fmt((machine.cores * 1000) / R.peers.jetstream.jobsPerSecond, 2)} ms on JetStream.` : ''} Only ${fmt((sys / svc) * 100)} % of the services' CPU is in the kernel (sockets, files): the rest is JavaScript — per event a JetStream delivery, a decode and schema check, a span, a fold, a statement or two and a publish, spread over ${services.length} processes with no single hot spot (see the profiles below). Appends and stream reads are batched across jobs inside each process (group commit, see Round trips), but every event still costs each service that takes it a delivery, a decode, a span and a handler of its own.`);
}
if (R.perf?.available) {
  const p = R.perf;
  const share = (name) => p.processes.find((x) => x.name === name)?.share ?? 0;
  const kinds = p.nodeCategories.slice(0, 4).map((c) => `${c.name} ${fmt(c.share * 100)} %`).join(', ');
  why.push(`- **On-CPU samples (perf, whole machine).** PostgreSQL took ${fmt(share('postgres') * 100)} % of the machine's CPU, NATS ${fmt(share('nats-server') * 100)} %, the stack's Node processes (the services and the simulator) ${fmt(p.nodeShare * 100)} %. Inside those, the largest kinds of work were ${kinds} (see "Where the machine's CPU goes").`);
}
if (R.profile?.profiles.length) {
  const cpu = R.profile.profiles.reduce((a, p) => a + p.busyMs, 0);
  const sockets = R.profile.profiles.reduce((a, p) => a + p.functions.filter((f) => /^(writev|writeBuffer) ← /.test(f.name)).reduce((x, f) => x + f.ms, 0), 0);
  why.push(`- **Reading the profiles.** V8's profiler samples wall time on the main thread, so a process that wakes PostgreSQL or NATS with a socket write and then waits for a core is charged to that write: the profiles put ${fmt((sockets / cpu) * 100)} % of their samples in \`writev\`/\`writeBuffer\`, far more than the kernel share above. Their busy totals (${fmt(cpu / 1000, 1)} s for ${fmt(R.profile.jobs)} jobs) overstate CPU for the same reason.`);
}
if (R.stmts?.available) {
  const k = (name) => R.stmts.kinds.find((x) => x.kind === name)?.perJob ?? 0;
  const appends = k('SELECT fn reelay_append_groups') + k('SELECT fn reelay_append');
  why.push(`- **Round trips.** ${fmt(R.stmts.perJob, 1)} SQL statements per job for ${fmt(R.stmts.jobEvents / R.stmts.jobs, 1)} job events: ${fmt(appends, 2)} appends per job (a group commit carries the appends a process makes during one round trip, so at this light load of ${fmt(R.stmts.jobs)} jobs they are still small), ${fmt(k('SELECT unnest'), 2)} batched stream reads, and the rest the relay's and projections' log reads and checkpoints, the schedule, slot and key statements. Each is a round trip the job waits for and CPU in PostgreSQL.`);
}
if (R.inflight) {
  const f = R.inflight;
  const polling = f.procs.find((p) => p.name === 'polling');
  if (f.latenessP99 > 1 || f.checksPerSecond < f.requiredChecksPerSecond * 0.99) {
    why.push(`- **Polling at ${fmt(f.jobs)} in flight** made ${fmt(f.checksPerSecond)} of the ${fmt(f.requiredChecksPerSecond)} checks/s the schedule asks for (lateness p99 ${f.latenessP99.toFixed(2)} s), with at most \`POLL_CONCURRENCY\`=${f.pollConcurrency} checks at once, i.e. ${fmt((f.pollConcurrency / f.checksPerSecond) * 1000)} ms per check at the rate reached, with polling at ${fmt(polling?.cpuPercent ?? NaN)} % of a core.`);
  }
  if (!withinMB(polling?.maxRssMiB ?? 0)) why.push(`- **Polling's RSS** reached ${fmt(polling.maxRssMiB)} MiB at ${fmt(f.jobs)} in flight.`);
}
/** The three steps between consecutive events with the highest p99, as a sentence. */
function slowestSteps(steps) {
  const top = Object.entries(steps ?? {}).sort((a, b) => b[1].p99 - a[1].p99).slice(0, 3);
  return top.length ? ` The slowest steps between two events (p50 / p99): ${top.map(([k, v]) => `${k} (${fmt(v.p50)} / ${fmt(v.p99)} ms)`).join(', ')}.` : '';
}
if (R.e2e) {
  const missed = Object.entries(R.e2e.latency.transitions).filter(([k, v]) => k !== 'submit → succeeded' && v.p99 > 50);
  if (missed.length) {
    why.push(`- **Latency** follows from the above: at half of a CPU-bound peak every hop queues behind other jobs' hops (${R.e2e.processes.length} processes on 2 cores), each hop also paying its share of the per-job CPU above. Over the target: ${missed.map(([k, v]) => `${k.replace(/ \(.*\)$/, '')} (p99 ${fmt(v.p99)} ms)`).join(', ')}.${slowestSteps(R.e2e.latency.steps)}`);
  }
}
if (R.copies) {
  const c = R.copies;
  const inside = R.e2e?.latency.inside ?? [];
  const [copy, fileSync, dirSync] = ['copy', 'fileSync', 'dirSync'].map((id) => inside.find((x) => x.id === id));
  const underLoad =
    copy && fileSync && dirSync
      ? ` In the latency run the copy's p99 was ${fmt(copy.p99)} ms, of which the file's fsync had a p99 of ${fmt(fileSync.p99, 1)} ms and the wait for the directory sync ${fmt(dirSync.p99, 1)} ms: with the whole stack running, the copies' fsyncs share the disk with PostgreSQL's commits.`
      : '';
  why.push(`- **Bursts and the disk.** Group commits and batched claims hand a service the jobs of one batch at once, and they share its event loop. An output copy (download, durable write, probe; tools/bench/copy.bench.mjs) takes ${fmt(c.alone.p50, 1)} ms alone (p50 of ${c.alone.n}), but ${fmt(c.together.p50, 1)} ms (p50; p99 ${fmt(c.together.p99, 1)} ms) when ${c.burst} start together, while an fsync of an output-sized file on the quiet disk takes ${fmt(c.fsync.p50, 2)} ms (p50).${underLoad} The per-step p99 therefore needs smaller bursts, fewer sequential awaits per job and a storage disk of its own, not only less CPU.`);
}
/** "Where the machine's CPU goes": the perf run's tables, or why it did not run. */
function perfSection() {
  const p = R.perf;
  if (!p) return '';
  const head = `### Where the machine's CPU goes (perf)

`;
  if (!p.available) return `${head}Not measured in this run: ${p.reason}. With it, tools/bench/perf.bench.mjs samples every process on the machine on CPU during a peak run.

`;
  const pct = (x) => `${fmt(x * 100, 1)} %`;
  return `${head}tools/bench/perf.bench.mjs: \`perf record -a -e cpu-clock\` (499 Hz) while ${fmt(p.jobs)} instant jobs run as in
the peak run, after a warm-up of ${fmt(p.warmup)} on the same processes. These are on-CPU samples of
every process and thread (V8's compiler and GC threads included), so unlike the V8 profiles below
they do not count time spent waiting for a core. Threads are grouped by the service they belong to;
PostgreSQL's backends and NATS by name.

| process | share of the machine's CPU |
|---|---|
${p.processes.map((r) => `| ${r.name} | ${pct(r.share)} |`).join('\n')}

Inside the stack's Node processes (the services and the simulator, ${pct(p.nodeShare)} of the machine), by what the sampled symbol is
(V8's code is in the node binary; without \`--perf-basic-prof\` the JavaScript V8 compiled is one
anonymous region, so it is counted whole, not by function):

| spent on | share |
|---|---|
${p.nodeCategories.map((r) => `| ${r.name} | ${pct(r.share)} |`).join('\n')}

`;
}
/** "What PostgreSQL's backends do": the sampled wait events of the pg-waits run. */
function pgWaitSection() {
  const w = R.pgWaits;
  if (!w) return '';
  const rows = w.table.filter((r) => r.backends >= 0.005);
  const byWait = new Map();
  for (const r of w.table) byWait.set(r.wait, (byWait.get(r.wait) ?? 0) + r.backends);
  return `### What PostgreSQL's backends do (sampled)

tools/bench/pg-waits.bench.mjs: \`pg_stat_activity\` of the bench database read every ${w.intervalMs} ms
(${fmt(w.samples)} samples over ${fmt(w.seconds, 1)} s) while ${fmt(w.jobs)} instant jobs run as in the peak run, after a warm-up
of ${fmt(w.warmup)}. Each active backend is counted by the kind of its statement and what it waits on;
a figure is the average number of backends in that state, so they add up to the average number
active: **${fmt(w.active, 2)}**. By what they wait on: ${[...byWait].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}.

| statement | waiting on | backends (average) |
|---|---|---|
${rows.map((r) => `| ${r.kind} | ${r.wait} | ${fmt(r.backends, 3)} |`).join('\n')}

`;
}
/** The batch-handler item of "What would close the gap", with this run's delivery figures when it has them. */
function batchHandlers() {
  const perJob = Object.values(R.e2e?.peak.deliveries?.perJob ?? {}).reduce((a, c) => a + c.perJob, 0);
  const cost = (mode) => R.delivery?.rows.find((r) => r.mode === mode)?.cpuMicros;
  const [bare, traced] = [cost('bare'), cost('traced')];
  const base = `A job makes ${perJob ? fmt(perJob) : 'about 12'} JetStream deliveries, and each pays a decode, a schema check, a span and a handler call in its service. Consumers that take a batch of messages and fold, decide and append for all of its jobs in one call would pay the handler dispatch, the span and the timers once per batch; the decode, the schema check and the fold stay per event, and the statements are batched already (group commits, slot and schedule batches).`;
  if (bare === undefined || traced === undefined || !perJob || !R.e2e) return base;
  const above = ((traced - bare) * perJob) / 1000;
  return `${base} Measured (see "What a JetStream delivery costs"): a delivery costs ${fmt(traced, 1)} µs of CPU in a service against ${fmt(bare, 1)} µs for the bare client, so the transport, Nest and tracing add ${fmt(above, 2)} ms per job, ${fmt((above / cpuTotal(R.e2e.peak.cpuPerJobMs)) * 100, 1)} % of the CPU per job above. Batching removes part of that, not the client's own cost: worth doing, but not where a large share of the gap is.`;
}
const whySection = why.length ? `## Why the targets are missed (from this run's profile and counts)\n\n${why.join('\n')}\n\n` : '';
// Not measured by this run: what the measurements above point at, for whoever takes the next step.
const gapSection = why.length
  ? `## What would close the gap

Each item names what it would remove; none is built yet, except where it says so.

- **Batch handlers.** ${batchHandlers()}
- **Fewer hops for one host.** Every step between two services crosses the relay (commit → read
  → publish → deliver); with the handler's own statements such a step takes 10–25 ms at p50 under
  load (step table above). A single-host mode that hands the event to the next service's handler
  in the same process would remove the hop, though not the append before it; the services are
  separate processes today for ownership and scaling. The one hop inside a service is gone
  already: intake validates a job without a reference image right after the submit's reply, and
  the JobSubmitted delivery that follows finds the work done.
- **The follow's stream read overlapping the first check.** Between JobProviderAccepted and the
  first check, polling reads the stream and then inserts the schedule row, one after the other.
  Reading while the first status call runs would save one round trip; the check must still wait
  for the read before it acts on the answer, so that a job that ended first (a cancel right after
  the acceptance, or a redelivered acceptance of a finished job) is not copied or written again.
- **Output storage on its own disk, or object storage.** Under load the wait for the directory
  sync is a large part of an output copy (table above): every fsync ends with a flush of the
  device's write cache, and the copies' flushes queue with PostgreSQL's WAL flushes on the same
  disk (here ${machine.storage}). Putting STORAGE_DIR elsewhere removes that coupling without
  weakening durability.

Tried and measured once outside this script (2026-12-07, on this machine, peak runs of 2,000 jobs
after a warm-up of 1,500):

- **Tracing is not where the gap is.** The same stack with tracing not set up at all (no context
  manager, no spans) against tracing as shipped, two runs each, interleaved: 157 and 153 jobs/s
  without, 161 and 168 with; CPU per job 11.7 and 11.9 ms without, 11.4 and 11.0 ms with. The
  difference is inside the run-to-run noise of this shared machine (a stray process of the
  session used one core throughout these four runs, alike for both variants).
- **PostgreSQL sessions opened and closed under load.** \`perf record -a\` over a peak run found
  51 PostgreSQL backends that lived only part of the run, together 4.7 % of the machine's CPU
  (a fork, a new backend's caches): the standby relays opened a session for every try of the
  leader lock (about 2 a second) and the pools closed connections idle for 10 s. Standbys now keep
  one session (\`LeaderCandidate\`) and pools keep idle connections 60 s; the same measurement
  then found 8 such backends, 0.6 % of the machine.
- **The bench's own queries.** Waiting for a run's jobs to end used to count terminal events over
  the whole log every 200 ms, a sequential scan read about 315 \`events\` rows per job; it now
  asks by key about the unfinished jobs only (\`waitJobsEnded\`), about 14 rows per job.

`
  : '';

const doc = `# Benchmarks

Written by \`npm run bench\` (tools/bench/run.mjs); re-run it to refresh this page. Figures are from
one run on the machine below; compare ratios, not absolute numbers, across machines. A run takes
about 13 minutes on 2 cores and needs what the tests need (PostgreSQL, NATS with JetStream) plus
Redis for the BullMQ peer. Linux \`perf\` (Debian: linux-perf) run as root is optional: without it the
whole-machine CPU section says it was skipped.

## Machine and run

| | |
|---|---|
| CPU | ${machine.cpu} |
| cores | ${machine.cores} |
| memory | ${machine.memoryGiB} GiB |
| OS | ${machine.os} |
| Node.js | ${machine.node} |
| PostgreSQL | ${machine.postgres} (stock settings, fsync on) |
| filesystem of the temp dir (outputs, NATS and PostgreSQL share its disk) | ${machine.storage} |
| NATS | ${nats} (JetStream, file storage) |
| Redis | ${redis.version} (appendonly ${redis.appendonly ?? '?'}) |
| date | ${new Date().toISOString()} |
| load average (1/5/15 min) before / after | ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} — ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} |
| duration | ${minutes.toFixed(1)} min |

The machine is shared: other work running at the same time (see the load) lowers every figure.

Command: \`npm run bench\` with ${Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join(', ')}
(environment: BENCH_SCALE, BENCH_WARMUP, BENCH_JOBS, BENCH_CONCURRENCY, BENCH_LATENCY_SECONDS, BENCH_REPLICAS,
BENCH_INFLIGHT, BENCH_INFLIGHT_INTERVAL_MS, BENCH_INFLIGHT_SECONDS, BENCH_ROUNDS, BENCH_PEER_JOBS, BENCH_PEER_WARMUP,
BENCH_PROFILE_JOBS, BENCH_PROFILE_WARMUP, BENCH_PERF_JOBS, BENCH_STMT_JOBS; BENCH_ONLY=eventlog,e2e,inflight,peers,diagnose runs a subset).

## Targets

| target | goal | measured | |
|---|---|---|---|
${targets.filter(Boolean).join('\n')}

${whySection}${gapSection}${sections.join('\n\n')}
`;
writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), doc);
log(`wrote docs/benchmarks.md in ${minutes.toFixed(1)} min`);
