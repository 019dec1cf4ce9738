// Why "running → succeeded" is slow under load: the output copy alone, then many copies started
// together (as a batch of JobProviderAccepted reaches polling), against the cost of one fsync on
// this disk. Same code as polling (takeOutput into LocalStorage) and the simulator's real output.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, ROOT, summary, testing } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const { createAdapters } = require(join(ROOT, 'libs/providers/dist/index.js'));
const { LocalStorage } = require(join(ROOT, 'libs/storage/dist/index.js'));
const { takeOutput } = require(join(ROOT, 'apps/polling/dist/take-output/take-output.js'));

const RULES = { maxBytes: 50 * 1024 * 1024, minBytes: 1024, downloadTimeoutMs: 30_000 };

function fsyncMs(dir, n = 50) {
  const times = [];
  const buf = Buffer.alloc(150_000, 1);
  for (let i = 0; i < n; i++) {
    const fd = openSync(join(dir, `fsync-${i}`), 'w');
    writeSync(fd, buf);
    const t0 = performance.now();
    fsyncSync(fd);
    times.push(performance.now() - t0);
    closeSync(fd);
  }
  return summary(times);
}

export async function benchCopies({ burst = 32, rounds = 5, alone = 30 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'reelay-bench-copy-'));
  const sim = await testing.startService('provider-sim', { SIM_CLOCK: 'checks', LOCAL_RENDER_DIR: join(dir, 'renders') }, 'PORT');
  try {
    await sim.ready(30_000, '/_sim/health');
    const adapter = createAdapters({ PROVIDER_SIM_URL: sim.url }).get('runway');
    const storage = new LocalStorage(join(dir, 'storage'));
    const finished = async (i) => {
      const { providerTaskId } = await adapter.submit({ model: 'gen4.5', prompt: `copy ${i} [sim:success_after=1]`, durationSeconds: 5, aspectRatio: '16:9', submissionKey: `copy-${i}` });
      return (await adapter.check(providerTaskId)).outputUrl;
    };
    const copy = async (id, url) => {
      const t0 = performance.now();
      const r = await takeOutput({ storage, outputRules: RULES }, id, adapter, url);
      if (r.kind !== 'stored') throw new Error(`copy ${id}: ${r.kind} ${r.detail}`);
      return performance.now() - t0;
    };
    const urls = [];
    for (let i = 0; i < alone + burst * rounds; i++) urls.push(await finished(i));
    const single = [];
    for (let i = 0; i < alone; i++) single.push(await copy(`job_alone_${i}`, urls[i]));
    const together = [];
    for (let r = 0; r < rounds; r++) {
      const batch = urls.slice(alone + r * burst, alone + (r + 1) * burst);
      together.push(...(await Promise.all(batch.map((u, i) => copy(`job_burst_${r}_${i}`, u)))));
    }
    const result = { burst, rounds, alone: summary(single), together: summary(together), fsync: fsyncMs(dir) };
    log(`copies: alone p50 ${result.alone.p50.toFixed(1)} ms; ${burst} at once p50 ${result.together.p50.toFixed(1)} ms, p99 ${result.together.p99.toFixed(1)} ms; fsync p50 ${result.fsync.p50.toFixed(2)} ms`);
    return result;
  } finally {
    await sim.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
