// What PostgreSQL's backends do while jobs run: `pg_stat_activity` sampled every few milliseconds
// during a peak run (after a warm-up), each active backend counted by its statement's kind and what
// it is waiting on (nothing: on CPU; WAL flush; a lock, ...). The average number of active
// backends says how much of the time the jobs spend inside the database at all.
import { createUsers, log, pgClient, sleep, startReelay } from './lib/common.mjs';
import { runJobs } from './diagnose.bench.mjs';
import { tally, waitTable } from './lib/pg-waits.mjs';

export async function pgWaitRun({ warmup, jobs, users, intervalMs = 3 }) {
  const stack = await startReelay({ label: 'pgwaits' });
  const sampler = pgClient(stack.db.url);
  await sampler.connect();
  try {
    const keys = await createUsers(stack, users);
    await runJobs(stack, warmup, keys);
    const dbName = (await sampler.query('SELECT current_database() AS d')).rows[0].d;
    const counts = new Map();
    let samples = 0;
    let running = true;
    const sampling = (async () => {
      while (running) {
        const { rows } = await sampler.query(
          `SELECT query, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
          [dbName],
        );
        samples++;
        tally(counts, rows);
        await sleep(intervalMs);
      }
    })();
    const t0 = performance.now();
    await runJobs(stack, jobs, keys, { settleMs: 0 });
    const seconds = (performance.now() - t0) / 1000;
    running = false;
    await sampling;
    const table = waitTable(counts, samples);
    const active = table.reduce((a, r) => a + r.backends, 0);
    log(`pg waits: ${samples} samples over ${seconds.toFixed(1)} s, ${active.toFixed(2)} backends active on average`);
    return { jobs, warmup, samples, seconds, intervalMs, active, table };
  } finally {
    await sampler.end();
    await stack.stop();
  }
}
