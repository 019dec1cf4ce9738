#!/usr/bin/env node
// `npm run bench`: measures and writes docs/benchmarks.md. BENCH_SCALE=N multiplies the sizes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from './machine.mjs';
import { benchEventStore } from './event-store.bench.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const scale = Number(process.env.BENCH_SCALE ?? 1);
const machine = machineInfo();
console.log('machine', machine);

const es = await benchEventStore({ scale });
const row = (label, r, unit = 'events/s') => `| ${label} | ${r.n} | ${r.seconds.toFixed(2)} s | **${r.perSecond.toLocaleString('en-US')}** ${unit} |`;
const table = [
  '| measurement | events | time | rate |',
  '|---|---|---|---|',
  row('append, 1 event per transaction, 1 writer', es.appendSingle),
  row('append, 1 event per transaction, 8 writers', es.appendSingle8),
  row('appendMany, 100 streams × 1 event per transaction', es.appendBatched),
  row('log reader: whole log in commit order, pages of 1,000', es.replay),
].join('\n');
console.log(table);

const doc = `# Benchmarks

Written by \`npm run bench\` (scale ${scale}); re-run it to refresh this page. Figures are from one
run on the machine below, with whatever else it was doing at the time; compare ratios, not
absolute numbers, across machines.

## Machine

| | |
|---|---|
| CPU | ${machine.cpu} |
| cores | ${machine.cores} |
| memory | ${machine.memoryGiB} GiB |
| OS | ${machine.os} |
| Node.js | ${machine.node} |
| PostgreSQL | ${machine.postgres} (stock settings, fsync on) |
| date | ${new Date().toISOString()} |

## Event log (PostgreSQL)

Command: \`npm run bench\` (tools/bench/event-store.bench.mjs). Each append validates the events
against their schemas, checks the stream's expected version and writes in one transaction. The
batched form appends to 100 different streams in one transaction (multi-row INSERT), which is how
reelay amortises commits across jobs. The reader uses the transaction-id horizon
(libs/event-store/src/log/read-all.ts), so its rate includes the safety against late commits.

${table}
`;
writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), doc);
console.log('wrote docs/benchmarks.md');
