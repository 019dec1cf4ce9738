// Provider slot acquires: one batch of acquires at one provider, decided by the per-request loop
// (dispatch migration 0003), by the one-pass function (0004) and by the one that keeps the waiting
// lines (0007, every request in line), with different numbers of slots already in use. Each variant gets its own database; the rows a batch adds are deleted after it.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';

const require = createRequire(import.meta.url);
const { dispatchMigrations } = require('../../apps/dispatch/dist/migrations/index.js');

const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function database(admin, migrations) {
  const name = `reelay_bench_slots_${randomUUID().slice(0, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const runner = { query: (sql, params) => client.query(sql, params).then((r) => r.rows) };
  for (const Migration of migrations) await new Migration().up(runner);
  return { name, client };
}

const ONE_PASS = (client, jobs) =>
  client.query(`SELECT ord, acquired, in_use FROM reelay_acquire_provider_slots($1::text[], $2::text[], $3::int[])`, [jobs, jobs.map(() => 'bench'), jobs.map(() => 1_000_000)]);
const IN_LINE = (client, jobs) =>
  client.query(`SELECT ord, acquired, in_use FROM reelay_acquire_provider_slots_in_line($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], 10000)`, [
    jobs,
    jobs.map(() => 'bench'),
    jobs.map(() => 1_000_000),
    jobs.map(() => new Date()),
    jobs.map(() => 0),
  ]);

async function timeBatches(client, { held, batch, runs }, acquire = ONE_PASS) {
  await client.query(`DELETE FROM provider_slots`);
  await client.query(`INSERT INTO provider_slots (job_id, provider) SELECT 'held-' || g, 'bench' FROM generate_series(1, $1::int) g`, [held]);
  await client.query(`VACUUM ANALYZE provider_slots`);
  const times = [];
  for (let r = 0; r < runs; r++) {
    const jobs = Array.from({ length: batch }, (_, i) => `job-${r}-${i}`);
    const t0 = performance.now();
    await acquire(client, jobs);
    times.push(performance.now() - t0);
    await client.query(`DELETE FROM provider_slots WHERE job_id = ANY($1::text[])`, [jobs]);
    if (r % 50 === 49) await client.query(`VACUUM provider_slots`);
  }
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, t) => a + t, 0) / runs, p50: times[Math.floor(runs / 2)] };
}

export async function benchSlots({ held = [200, 2000, 20000], batch = 20, runs = 300 } = {}) {
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  const loop = await database(admin, dispatchMigrations.filter((m) => m.name !== 'AcquireSlotsInOnePass1764400000004'));
  const onePass = await database(admin, dispatchMigrations);
  try {
    const rows = [];
    for (const h of held) {
      rows.push({
        held: h,
        loop: await timeBatches(loop.client, { held: h, batch, runs }),
        onePass: await timeBatches(onePass.client, { held: h, batch, runs }),
        inLine: await timeBatches(onePass.client, { held: h, batch, runs }, IN_LINE),
      });
    }
    return { batch, runs, rows };
  } finally {
    for (const db of [loop, onePass]) {
      await db.client.end();
      await admin.query(`DROP DATABASE ${db.name} WITH (FORCE)`);
    }
    await admin.end();
  }
}
