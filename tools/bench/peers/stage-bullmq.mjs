// One stage of the BullMQ pipeline, as its own process: consumes queue s<stage>, does the
// stage's trivial work and adds the job to s<stage+1>; the last stage counts completions.
import { Queue, Worker } from 'bullmq';
import { done, stageArgs, work } from './stage-common.mjs';

const { stage, stages, total, prefix, warm } = stageArgs();
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const concurrency = Number(process.env.BULLMQ_CONCURRENCY ?? 100);
const next = stage < stages ? new Queue(`s${stage + 1}`, { connection, prefix }) : null;
const finished = done(total, warm);
const worker = new Worker(
  `s${stage}`,
  async (job) => {
    const data = work(job.data, stage);
    if (next) await next.add('job', data, { removeOnComplete: true, removeOnFail: true });
    else finished();
  },
  { connection, prefix, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
);
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', async () => {
  await worker.close();
  await next?.close();
  process.exit(0);
});
