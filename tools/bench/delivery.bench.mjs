// What one JetStream delivery costs a service before its handler does any work: the same
// messages consumed by the bare client, by reelay's transport, under Nest, and with tracing on
// (tools/bench/delivery/consume-child.cjs). CPU time of the consuming process per message, the
// median of interleaved runs, so a slow minute on a shared machine hits every mode alike.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { log, median, ROOT, testing } from './lib/common.mjs';

const DELIVERY_MODES = [
  ['bare', 'bare client: consume(), JSON.parse, ack'],
  ['server', "reelay's JetStreamServer (decode and schema check, routing, keep-alive timer, span without SDK, batched acks)"],
  ['busy', '… with a handler that waits 5 ms (slots free one at a time, as in a service)'],
  ['nest', '… under a Nest microservice (@EventPattern controller method)'],
  ['traced', '… with tracing set up as in every service (no exporter: spans unrecorded, contexts propagated)'],
];

function runChild(mode, messages) {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [join(ROOT, 'tools/bench/delivery/consume-child.cjs'), mode, String(messages), testing.TEST_NATS_URL], { timeout: 120_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${mode}: ${err.message}\n${errOut}`)) : resolve(JSON.parse(out.trim().split('\n').at(-1))),
    ),
  );
}

export async function benchDelivery({ messages = 20_000, rounds = 3 } = {}) {
  const runs = new Map(DELIVERY_MODES.map(([mode]) => [mode, []]));
  for (let r = 0; r < rounds; r++) for (const [mode] of DELIVERY_MODES) runs.get(mode).push(await runChild(mode, messages));
  const rows = DELIVERY_MODES.map(([mode, label]) => ({
    mode,
    label,
    cpuMicros: median(runs.get(mode).map((x) => x.cpuMicrosPerMessage)),
    perSecond: median(runs.get(mode).map((x) => x.perSecond)),
  }));
  for (const row of rows) log(`delivery: ${row.mode} ${row.cpuMicros.toFixed(1)} µs CPU per message, ${row.perSecond.toFixed(0)}/s`);
  return { messages, rounds, rows };
}
