import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const LIB = join(__dirname, '..', 'bench', 'lib', 'rounds.mjs');

/** Calls an export of the ESM helper in its own node (jest here is CommonJS). */
function call(fn: string, ...args: unknown[]) {
  const script = `import(${JSON.stringify(LIB)}).then((m) => {
    const args = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify(m[${JSON.stringify(fn)}](...args)));
  })`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(args)], { encoding: 'utf8' }));
}

const peers = (bullmq: number, pgboss: number, jetstream: number) => ({
  bullmq: { jobsPerSecond: bullmq },
  pgboss: { jobsPerSecond: pgboss },
  jetstream: { jobsPerSecond: jetstream },
});

describe('bench rounds', () => {
  it('takes the lower middle of an even count and the middle of an odd one', () => {
    expect(call('median', [3, 1, 2])).toBe(2);
    expect(call('median', [4, 1, 3, 2])).toBe(2);
  });

  it('compares each round of reelay with the peers of the same round, then takes the median ratio', () => {
    // Round 2 ran on a machine twice as slow: its ratios match round 1's, not a mix of both.
    const r = call('roundRatios', [200, 100, 300], [peers(2000, 1000, 4000), peers(800, 1000, 2000), peers(2000, 3000, 3000)]);
    expect(r.rounds.map((x: { vsBest: number }) => x.vsBest)).toEqual([0.1, 0.1, 0.1]);
    expect(r.rounds.map((x: { best: number }) => x.best)).toEqual([2000, 1000, 3000]);
    expect(r.vsBest).toBe(0.1);
    expect(r.rounds.map((x: { vsJetStream: number }) => x.vsJetStream)).toEqual([0.05, 0.05, 0.1]);
    expect(r.vsJetStream).toBe(0.05);
  });

  it('ignores a round that only one side has', () => {
    const r = call('roundRatios', [100, 100], [peers(1000, 500, 1000)]);
    expect(r.rounds).toHaveLength(1);
  });

  it('reports each pipeline at its median round with every round listed', () => {
    const m = call('peerMedians', [peers(3, 30, 300), peers(1, 10, 100), peers(2, 20, 200)]);
    expect(m.bullmq).toEqual({ jobsPerSecond: 2, rounds: [3, 1, 2] });
    expect(m.jetstream).toEqual({ jobsPerSecond: 200, rounds: [300, 100, 200] });
  });
});
