// One measurement of the delivery cost bench (tools/bench/delivery.bench.mjs), in a process of its
// own so that tracing's global set-up (mode `traced`) cannot leak into the other modes.
// Usage: node consume-child.cjs <mode> <messages> <nats url>; prints one JSON line.
//   bare     @nats-io/jetstream consume() + JSON.parse + ack: the client's own floor
//   server   reelay's JetStreamServer with a handler added directly (decode and schema check,
//            routing, keep-alive timer, consumer span with no SDK, batched acks)
//   busy     `server` with a handler that waits 5 ms, so slots free one at a time as in a service
//   nest     the same server under a Nest microservice with an @EventPattern controller method
//   traced   `nest` with service-kit's initTracing as every service runs it (no exporter, so spans
//            are not recorded, but contexts propagate through AsyncLocalStorage)
require('reflect-metadata');
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');
const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager } = require('@nats-io/jetstream');
const { NestFactory } = require('@nestjs/core');
const { Controller, Module } = require('@nestjs/common');
const { EventPattern } = require('@nestjs/microservices');

const ROOT = join(__dirname, '../../..');
const messaging = require(join(ROOT, 'libs/messaging/dist/index.js'));
const { initTracing } = require(join(ROOT, 'libs/service-kit/dist/index.js'));

const [mode, count, url] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
if (mode === 'traced') initTracing('delivery-bench', {});

/** A job event as the relay publishes it: a RecordedEvent envelope, an unsampled trace. */
const event = () => ({
  eventId: randomUUID(),
  type: 'JobValidationStarted',
  schemaVersion: 1,
  streamId: `job-${randomUUID()}`,
  streamVersion: 2,
  globalPosition: '12345',
  transactionId: '67890',
  data: { at: new Date().toISOString() },
  metadata: { correlationId: `req-${randomUUID()}`, userId: 'bench-user', causationId: randomUUID(), traceparent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-00` },
  recordedAt: new Date().toISOString(),
});

async function main() {
  const prefix = `dlv${randomUUID().slice(0, 8)}`;
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await messaging.ensureEventStream(jsm, prefix, {});
  const stream = messaging.eventStreamName(prefix);
  const js = jetstream(nc);
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, count - i) }, () => js.publish(`${prefix}.events.job.JobValidationStarted`, JSON.stringify(event()))));
  }

  let handled = 0;
  let cpu0;
  let t0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const onMessage = () => {
    if (handled === 0) {
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    }
    if (++handled === count) finish();
  };
  const binding = { durable: 'delivery-bench', filterSubjects: [`${prefix}.events.job.>`], concurrency: 64, maxDeliver: 5 };
  const server = () => new messaging.JetStreamServer({ connection: nc, prefix, consumers: [binding], deadLetters: { record: async () => undefined }, lagIntervalMs: 0 });
  let stop;
  if (mode === 'bare') {
    await jsm.consumers.add(stream, { durable_name: binding.durable, ack_policy: 'explicit', filter_subject: binding.filterSubjects[0] });
    const pull = await (await js.consumers.get(stream, binding.durable)).consume({ max_messages: binding.concurrency });
    void (async () => {
      for await (const msg of pull) {
        JSON.parse(Buffer.from(msg.data).toString('utf8'));
        msg.ack();
        onMessage();
      }
    })();
    stop = async () => pull.stop();
  } else if (mode === 'server' || mode === 'busy') {
    const s = server();
    const wait = mode === 'busy' ? () => new Promise((resolve) => setTimeout(resolve, 5)) : async () => undefined;
    s.addHandler('*.events.job.>', async () => (await wait(), onMessage()), true);
    await new Promise((resolve, reject) => s.listen((err) => (err ? reject(err) : resolve())));
    stop = () => s.close();
  } else if (mode === 'nest' || mode === 'traced') {
    class Handlers {
      onEvent() {
        onMessage();
      }
    }
    EventPattern('*.events.job.>')(Handlers.prototype, 'onEvent', Object.getOwnPropertyDescriptor(Handlers.prototype, 'onEvent'));
    Controller()(Handlers);
    class BenchModule {}
    Module({ controllers: [Handlers] })(BenchModule);
    const app = await NestFactory.createMicroservice(BenchModule, { strategy: server(), logger: false });
    await app.listen();
    stop = () => app.close();
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await finished;
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  await stop();
  await jsm.streams.delete(stream);
  await nc.close();
  console.log(JSON.stringify({ mode, messages: count, cpuMicrosPerMessage: (cpu.user + cpu.system) / count, perSecond: count / seconds }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
