// One stage of the bare-JetStream pipeline (no database), as its own process: a durable pull
// consumer on <prefix>.s<stage>, each message published to <prefix>.s<stage+1> and acked once
// the stream has acknowledged the publish.
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { done, stageArgs, work } from './stage-common.mjs';

const { stage, stages, total, prefix, warm } = stageArgs();
const batch = Number(process.env.JS_BATCH ?? 1000);
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', noAsyncTraces: true });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const stream = prefix.toUpperCase();
const name = `s${stage}`;
await jsm.consumers.add(stream, { durable_name: name, filter_subject: `${prefix}.s${stage}`, ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
const consumer = await js.consumers.get(stream, name);
const finished = done(total, warm);
const messages = await consumer.consume({ max_messages: batch });
console.log('ready');
const inflight = new Set();
for await (const m of messages) {
  const data = work(m.json(), stage);
  if (stage < stages) {
    const p = js.publish(`${prefix}.s${stage + 1}`, JSON.stringify(data)).then(() => {
      m.ack();
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size >= 1000) await Promise.race(inflight);
  } else {
    m.ack();
    finished();
  }
}
