// Event-log throughput: appends (one event per transaction, 1 and 8 writers; 64 callers of one
// store, whose appends go as group commits; batched multi-stream appends) and replay of the whole
// log in global order.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createDataSource, runMigrations, EventStore, LOG_START } = require('../../libs/event-store/dist/index.js');

const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function event(userId) {
  return { type: 'CreditsGranted', data: { userId, amount: 1, at: new Date().toISOString() } };
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const n = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { n, seconds: s, perSecond: Math.round(n / s) };
}

export async function benchEventStore({ scale = 1 } = {}) {
  const name = `reelay_bench_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  const ds = createDataSource(url.toString(), { poolSize: 12 });
  await ds.initialize();
  await runMigrations(ds);
  const store = new EventStore(ds);
  const results = {};
  try {
    const single = 2000 * scale;
    results.appendSingle = await timed(async () => {
      for (let i = 0; i < single; i++) await store.append(`credits-s${i}`, 0, [event(`s${i}`)]);
      return single;
    });
    /** `callers` concurrent callers of the one store, each appending to new streams one after another. */
    const concurrentAppends = (callers, perCaller, prefix) =>
      timed(async () => {
        await Promise.all(
          Array.from({ length: callers }, async (_, w) => {
            for (let i = 0; i < perCaller; i++) await store.append(`credits-${prefix}${w}-${i}`, 0, [event(`${prefix}${w}`)]);
          }),
        );
        return callers * perCaller;
      });
    results.appendSingle8 = await concurrentAppends(8, 1000 * scale, 'w');
    results.appendConcurrent64 = await concurrentAppends(64, 250 * scale, 'c');
    const batches = 200 * scale;
    results.appendBatched = await timed(async () => {
      for (let b = 0; b < batches; b++) {
        await store.appendMany(Array.from({ length: 100 }, (_, i) => ({ streamId: `credits-b${b}-${i}`, expectedVersion: 0, events: [event('b')] })));
      }
      return batches * 100;
    });
    results.replay = await timed(async () => {
      let checkpoint = LOG_START;
      let n = 0;
      for (;;) {
        const page = await store.readAll(checkpoint, 1000);
        if (!page.events.length) return n;
        n += page.events.length;
        checkpoint = page.checkpoint;
      }
    });
  } finally {
    await ds.destroy();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
  return results;
}
