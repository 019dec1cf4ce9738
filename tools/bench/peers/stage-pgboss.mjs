// One stage of the pg-boss pipeline, as its own process: fetches batches from queue s<stage>,
// inserts them into s<stage+1> in one statement, and completes the batch.
import PgBoss from 'pg-boss';
import { done, stageArgs, work } from './stage-common.mjs';

const { stage, stages, total, prefix: url, warm } = stageArgs();
const batchSize = Number(process.env.PGBOSS_BATCH_SIZE ?? 1000);
const workers = Number(process.env.PGBOSS_WORKERS ?? 2);
const boss = new PgBoss({ connectionString: url, max: workers + 2, supervise: false, schedule: false, migrate: false });
boss.on('error', (err) => console.error(err));
await boss.start();
const finished = done(total, warm);
// pg-boss's worker sleeps out its polling interval (0.5 s at least) after every fetch, a full one
// too; a full batch says more is waiting, so the worker is woken to fetch again at once
// (notifyWorker), as a tuned deployment would, and only a partial batch waits for the next poll.
for (let w = 0; w < workers; w++) {
  let id = null;
  id = await boss.work(`s${stage}`, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    if (stage < stages) await boss.insert(jobs.map((j) => ({ name: `s${stage + 1}`, data: work(j.data, stage) })));
    else finished(jobs.length);
    if (jobs.length === batchSize && id) boss.notifyWorker(id);
  });
}
console.log('ready');
process.on('SIGTERM', async () => {
  await boss.stop({ graceful: false, wait: false });
  process.exit(0);
});
