// A relay in its own process, so a test can kill -9 it. Env: DATABASE_URL, NATS_URL, PREFIX, BATCH_SIZE, CRASH_AFTER_BATCHES.
import { createDataSource } from '@reelay/event-store';
import { connectNats } from '../src/nats/connect-nats';
import { EventRelay } from '../src/relay/event-relay';

async function main(): Promise<void> {
  const ds = await createDataSource(process.env.DATABASE_URL!, { poolSize: 2 }).initialize();
  const nc = await connectNats(process.env.NATS_URL!, 'relay-child');
  const crashAfter = Number(process.env.CRASH_AFTER_BATCHES ?? 0);
  let batches = 0;
  const relay = new EventRelay({
    dataSource: ds,
    nc,
    prefix: process.env.PREFIX!,
    batchSize: Number(process.env.BATCH_SIZE ?? 50),
    pollIntervalMs: 20,
    afterPublish: () => {
      batches++;
      process.stdout.write(`published ${batches}\n`);
      // The batch is in the stream, its checkpoint is not saved yet: die like a crashed pod would.
      if (crashAfter && batches >= crashAfter) process.kill(process.pid, 'SIGKILL');
    },
  });
  await relay.start();
  process.stdout.write('started\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
