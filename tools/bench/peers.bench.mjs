// The comparison: the same four-stage pipeline (validate → dispatch → poll → notify, each stage a
// trivial unit of work handing the job to the next) on BullMQ (Redis), pg-boss (PostgreSQL) and
// bare JetStream (no database). Each stage is its own process, like reelay's services; the bench
// process is the producer (the gateway's role). Throughput = jobs / (first enqueue → last stage done).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import PgBoss from 'pg-boss';
import { log, num, pgClient, ROOT, testing } from './lib/common.mjs';
import { payload } from './peers/stage-common.mjs';

const STAGES = 4;

export const peerSettings = () => ({
  bullmq: { concurrency: num('BULLMQ_CONCURRENCY', 100) },
  pgboss: { batchSize: num('PGBOSS_BATCH_SIZE', 1000), workers: num('PGBOSS_WORKERS', 2) },
  jetstream: { batch: num('JS_BATCH', 1000) },
});

function startStages(script, total, prefix, warm) {
  return Promise.all(
    Array.from({ length: STAGES }, (_, i) => {
      const child = spawn(process.execPath, [join(ROOT, 'tools/bench/peers', script), String(i + 1), String(STAGES), String(total), prefix, String(warm)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let onDone;
      let onWarm;
      const finished = new Promise((r) => (onDone = r));
      const warmed = new Promise((r) => (onWarm = r));
      child.stdout.on('data', (d) => {
        out += d;
        const m = /done (\d+)/.exec(out);
        if (m) onDone(Number(m[1]));
        if (/warm \d+/.test(out)) onWarm();
      });
      child.stderr.on('data', (d) => (out += d));
      return new Promise((res, rej) => {
        const t = setInterval(() => {
          if (out.includes('ready')) {
            clearInterval(t);
            res({ child, finished, warmed, output: () => out });
          } else if (child.exitCode !== null) {
            clearInterval(t);
            rej(new Error(`${script} stage ${i + 1} exited: ${out}`));
          }
        }, 50);
      });
    }),
  );
}

/**
 * `produce(from, count)` enqueues jobs from..from+count-1. The stage processes first carry `warm`
 * jobs through, untimed, as reelay's stack is warmed up before its peak runs (V8 compiles the hot
 * code, connections and caches fill); the clock starts after the last of those left the last stage.
 */
async function measure(name, script, total, prefix, produce, warm) {
  const stages = await startStages(script, warm + total, prefix, warm);
  let timer;
  try {
    const timeout = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${name}: not done after 300 s\n${stages.map((s) => s.output().slice(-500)).join('\n')}`)), 300_000);
    });
    if (warm > 0) {
      await produce(0, warm);
      await Promise.race([stages[STAGES - 1].warmed, timeout]);
    }
    const t0 = Date.now();
    await produce(warm, total);
    const produced = (Date.now() - t0) / 1000;
    const end = await Promise.race([stages[STAGES - 1].finished, timeout]);
    const seconds = (end - t0) / 1000;
    const r = { jobs: total, seconds, jobsPerSecond: total / seconds, enqueuePerSecond: total / produced };
    log(`peers: ${name} ${r.jobsPerSecond.toFixed(0)} jobs/s (${total} jobs in ${seconds.toFixed(2)} s)`);
    return r;
  } finally {
    // A pending timer would keep the bench alive for 300 s and then fail it with an unhandled rejection.
    clearTimeout(timer);
    for (const s of stages) s.child.kill('SIGTERM');
    await Promise.all(stages.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.once('exit', r)) : null)));
  }
}

async function benchBullmq(total, warm) {
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
  const q = new Queue('s1', { connection, prefix });
  try {
    return await measure('BullMQ', 'stage-bullmq.mjs', total, prefix, async (from, count) => {
      for (let i = from; i < from + count; i += 1000) {
        await q.addBulk(Array.from({ length: Math.min(1000, from + count - i) }, (_, j) => ({ name: 'job', data: payload(i + j), opts: { removeOnComplete: true, removeOnFail: true } })));
      }
    }, warm);
  } finally {
    await q.close();
    const redis = new Redis(connection);
    let cursor = '0';
    do {
      const [c, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = c;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

async function benchPgBoss(total, warm) {
  const db = await testing.createTestDatabase('pgboss');
  const boss = new PgBoss({ connectionString: db.url, max: 4, supervise: false, schedule: false });
  boss.on('error', (err) => log(`peers: pg-boss producer: ${err.message}`));
  try {
    await boss.start();
    for (let s = 1; s <= STAGES; s++) await boss.createQueue(`s${s}`);
    return await measure('pg-boss', 'stage-pgboss.mjs', total, db.url, async (from, count) => {
      for (let i = from; i < from + count; i += 1000) {
        await boss.insert(Array.from({ length: Math.min(1000, from + count - i) }, (_, j) => ({ name: 's1', data: payload(i + j) })));
      }
    }, warm);
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await db.drop();
  }
}

async function benchJetStream(total, warm) {
  const prefix = `benchjs${randomBytes(4).toString('hex')}`;
  const nc = await connect({ servers: testing.TEST_NATS_URL, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: prefix.toUpperCase(), subjects: [`${prefix}.>`] });
  const js = jetstream(nc);
  try {
    return await measure('JetStream', 'stage-jetstream.mjs', total, prefix, async (from, count) => {
      const pending = new Set();
      for (let i = from; i < from + count; i++) {
        const p = js.publish(`${prefix}.s1`, JSON.stringify(payload(i))).then(() => pending.delete(p));
        pending.add(p);
        if (pending.size >= 1000) await Promise.race(pending);
      }
      await Promise.all(pending);
    }, warm);
  } finally {
    await jsm.streams.delete(prefix.toUpperCase()).catch(() => false);
    await nc.close();
  }
}

export async function benchPeers({ jobs, warmup }) {
  return {
    bullmq: await benchBullmq(jobs, warmup),
    pgboss: await benchPgBoss(jobs, warmup),
    jetstream: await benchJetStream(jobs, warmup),
  };
}

export async function redisInfo() {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  try {
    await redis.connect();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    const [, aof] = await redis.config('GET', 'appendonly');
    const [, save] = await redis.config('GET', 'save');
    return { version, appendonly: aof, save };
  } catch {
    return { version: 'unknown' };
  } finally {
    redis.disconnect();
  }
}

export { pgClient };
