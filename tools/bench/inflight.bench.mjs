// In-flight capacity: N jobs already running at a slow provider (simulator `never_finish`), past
// their first checks (`delayed`), re-checked every POLL_DELAYED_INTERVAL_MS. Measures RSS and CPU
// of every service process and how late polling claims its checks.
//
// Set-up is direct, not over HTTP (100k submits would take minutes): the simulator creates the
// tasks in bulk, the jobs' streams (submitted → validating → validated → intent → accepted →
// delayed, 6 events each) are appended with the event store's appendMany, and their poll_schedule
// rows are inserted with due times spread evenly over one interval. This is done with the worker
// services stopped; the relay and projection checkpoints are then moved past these events, so
// they are not re-published (the services would otherwise spend minutes re-processing 600k
// set-up events that a real system processed as they happened).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createUsers, histogramBuckets, histogramQuantile, instantJob, log, pgClient, procSample, ROOT, sleep, startReelay, submitJob } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const { createDataSource, EventStore } = require(join(ROOT, 'libs/event-store/dist/index.js'));

const WORKERS = ['intake', 'dispatch', 'polling', 'notification', 'gateway'];

async function bulkTasks(simUrl, n) {
  const ids = [];
  for (let done = 0; done < n; ) {
    const count = Math.min(100_000, n - done);
    const res = await fetch(`${simUrl}/_sim/tasks/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'runway', count, scenario: 'never_finish', model: 'gen4.5' }),
    });
    if (!res.ok) throw new Error(`sim bulk create: ${res.status} ${await res.text()}`);
    ids.push(...(await res.json()).ids);
    done += count;
  }
  return ids;
}

async function waitSucceeded(db, jobId) {
  for (let i = 0; i < 300; i++) {
    const { rows } = await db.query(`SELECT 1 FROM events WHERE stream_id = $1 AND type = 'JobSucceeded'`, [`job-${jobId}`]);
    if (rows.length) return;
    await sleep(200);
  }
  throw new Error('warm-up job did not succeed');
}

/** Samples the schedule every 2 s for `seconds`: how many due checks wait unclaimed, and how long the oldest has. */
async function watchOverdue(db, seconds, each = () => undefined) {
  const overdue = [];
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await sleep(2000);
    each();
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, coalesce(extract(epoch FROM now() - min(next_check_at)), 0) AS oldest
         FROM poll_schedule WHERE next_check_at <= now() AND (lease_until IS NULL OR lease_until < now())`,
    );
    overdue.push({ waiting: rows[0].n, oldestSeconds: Number(rows[0].oldest) });
  }
  return { maxOverdueSeconds: Math.max(0, ...overdue.map((o) => o.oldestSeconds)), maxWaiting: Math.max(0, ...overdue.map((o) => o.waiting)) };
}

export async function benchInflight({ jobs, intervalMs, measureSeconds, warmupSeconds = 10, pollConcurrency = 128, env = {} }) {
  const stack = await startReelay({
    label: 'inflight',
    env: {
      POLL_SCHEDULE_MS: '5000,10000,15000,30000,60000',
      POLL_DELAYED_INTERVAL_MS: String(intervalMs),
      POLL_DEADLINE_MS: String(6 * 3600_000),
      POLL_CONCURRENCY: String(pollConcurrency),
      ...env,
    },
    replicas: { intake: 1, dispatch: 1, polling: 1, notification: 1 },
  });
  const db = pgClient(stack.db.url);
  await db.connect();
  const ds = createDataSource(stack.db.url, { poolSize: 4 });
  await ds.initialize();
  const store = new EventStore(ds);
  try {
    // One real job first: every relay/projection checkpoint exists, and it gives the event shapes.
    const [key] = await createUsers(stack, 1);
    const warm = await submitJob(stack.gateway.url, key, { ...instantJob(0), prompt: 'warm-up [sim:success_after=1]' });
    await waitSucceeded(db, warm.id);
    const { rows: template } = await db.query(`SELECT type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`job-${warm.id}`]);
    const submitted = template.find((e) => e.type === 'JobSubmitted');
    const intended = template.find((e) => e.type === 'JobSubmissionIntended');

    log(`inflight: stopping the services for the set-up of ${jobs.toLocaleString('en-US')} jobs`);
    for (const s of stack.services.filter((s) => WORKERS.includes(s.name))) await s.kill('SIGTERM');

    const t0 = performance.now();
    const taskIds = await bulkTasks(stack.sim.url, jobs);
    log(`inflight: ${jobs} simulator tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const at = new Date(Date.now() - 120_000).toISOString();
    const jobIds = taskIds.map((_, i) => `job_bench${String(i).padStart(8, '0')}`);
    const t1 = performance.now();
    for (let i = 0; i < jobs; i += 200) {
      await store.appendMany(
        jobIds.slice(i, i + 200).map((jobId, j) => ({
          streamId: `job-${jobId}`,
          expectedVersion: 0,
          events: [
            { type: 'JobSubmitted', data: { ...submitted.data, jobId, at }, metadata: submitted.metadata },
            { type: 'JobValidationStarted', data: { at } },
            { type: 'JobValidated', data: { at, referenceImage: null } },
            { type: 'JobSubmissionIntended', data: { ...intended.data, submissionKey: `${jobId}-1`, at } },
            { type: 'JobProviderAccepted', data: { provider: 'runway', providerTaskId: taskIds[i + j], at } },
            { type: 'JobDelayed', data: { at } },
          ],
        })),
      );
    }
    const appendSeconds = (performance.now() - t1) / 1000;
    log(`inflight: ${jobs * 6} events appended in ${appendSeconds.toFixed(1)} s`);
    // Due times spread evenly over one interval, starting once the services are back.
    for (let i = 0; i < jobs; i += 10_000) {
      const ids = jobIds.slice(i, i + 10_000);
      await db.query(
        `INSERT INTO poll_schedule (job_id, provider, provider_task_id, accepted_at, deadline_at, next_check_at, checks_done, last_status)
         SELECT j, 'runway', t, $3::timestamptz, now() + interval '6 hours',
                now() + make_interval(secs => (30000 + (ord + $4::int - 1) * $5::double precision / $6::int) / 1000), 5, 'running'
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(j, t, ord)`,
        [ids, taskIds.slice(i, i + 10_000), at, i, intervalMs, jobs],
      );
    }
    await db.query(
      `UPDATE checkpoints SET (transaction_id, global_position) =
         (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1)`,
    );
    log('inflight: schedule rows inserted, checkpoints moved; restarting the services');
    const restarted = [];
    for (const name of WORKERS) restarted.push(await stack.start(name));
    const setupSeconds = (performance.now() - t0) / 1000;

    const polling = restarted.find((s) => s.name === 'polling');
    const metrics = async () => (await fetch(`${polling.url}/metrics`)).text();
    const firstDue = await db.query(`SELECT extract(epoch FROM min(next_check_at) - now()) AS s FROM poll_schedule`);
    await sleep(Math.max(0, Number(firstDue.rows[0].s) * 1000));
    // The first seconds of checks after a restart are the process's warm-up (JIT, pools, caches):
    // reported apart, so the steady state is what the lateness figures describe.
    const rss = restarted.map(() => 0);
    const sampleRss = () => restarted.forEach((s, i) => (rss[i] = Math.max(rss[i], procSample(s.child.pid)?.rssMiB ?? 0)));
    log(`inflight: warm-up for ${warmupSeconds} s of due checks`);
    const warmup = await watchOverdue(db, warmupSeconds, sampleRss);
    log(`inflight: measuring for ${measureSeconds} s`);
    const before = { hist: histogramBuckets(await metrics(), 'reelay_poll_check_lateness_seconds'), procs: restarted.map((s) => procSample(s.child.pid)), sim: procSample(stack.sim.child.pid) };
    const mStart = performance.now();
    const steady = await watchOverdue(db, measureSeconds, sampleRss);
    const elapsed = (performance.now() - mStart) / 1000;
    const afterHist = histogramBuckets(await metrics(), 'reelay_poll_check_lateness_seconds');
    const procs = restarted.map((s, i) => {
      const a = procSample(s.child.pid);
      const b = before.procs[i];
      return { name: s.name, rssMiB: a?.rssMiB ?? NaN, maxRssMiB: Math.max(rss[i], a?.rssMiB ?? 0), cpuPercent: a && b ? ((a.cpuSeconds - b.cpuSeconds) / elapsed) * 100 : NaN };
    });
    const simSample = procSample(stack.sim.child.pid);
    const simCpuPercent = simSample && before.sim ? ((simSample.cpuSeconds - before.sim.cpuSeconds) / elapsed) * 100 : NaN;
    const p99 = histogramQuantile(afterHist, before.hist, 99);
    const p50 = histogramQuantile(afterHist, before.hist, 50);
    const { rows: sched } = await db.query(`SELECT count(*)::int AS n FROM poll_schedule`);
    const result = {
      jobs,
      intervalMs,
      requiredChecksPerSecond: jobs / (intervalMs / 1000),
      checks: p99.count,
      checksPerSecond: p99.count / elapsed,
      latenessP50: p50.value,
      latenessP99: p99.value,
      latenessP99Bucket: p99.bucket,
      ...steady,
      warmupSeconds,
      warmup,
      pollConcurrency,
      measureSeconds: elapsed,
      setupSeconds,
      appendSeconds,
      scheduled: sched[0].n,
      procs,
      simRssMiB: simSample?.rssMiB ?? NaN,
      simCpuPercent,
    };
    log(`inflight: ${result.checksPerSecond.toFixed(0)} checks/s (needed ${result.requiredChecksPerSecond.toFixed(0)}), lateness p99 ≈ ${p99.value.toFixed(2)} s (${p99.bucket}), max overdue ${result.maxOverdueSeconds.toFixed(1)} s (warm-up: ${warmup.maxOverdueSeconds.toFixed(1)} s)`);
    for (const p of procs) log(`  ${p.name}: RSS ${p.rssMiB.toFixed(0)} MiB (max ${p.maxRssMiB.toFixed(0)}), CPU ${p.cpuPercent.toFixed(0)} %`);
    return result;
  } catch (err) {
    for (const s of stack.services) console.error(`--- ${s.name} output (tail)\n${s.output().slice(-3000)}`);
    throw err;
  } finally {
    await ds.destroy();
    await db.end();
    await stack.stop();
  }
}
