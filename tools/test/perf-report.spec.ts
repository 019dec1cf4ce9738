import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const READER = join(__dirname, '..', 'bench', 'lib', 'perf-report.mjs');

/** Runs the ESM reader in its own node (jest here is CommonJS) on a report and thread names. */
function summarise(report: string, threads: [number, string][], others: [number, string][] = []) {
  const script = `import(${JSON.stringify(READER)}).then((m) => {
    const [report, threads, others] = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify(m.summarisePerf(report, new Map(threads), new Map(others))));
  })`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify([report, threads, others])], { encoding: 'utf8' }));
}

const REPORT = `
# Samples: 12K of event 'cpu-clock'
#
    20.00%    101:node             node                    [.] Builtins_LoadIC
    10.00%    102:node             node                    [.] v8::internal::compiler::GraphReducer::ReduceTop
    10.00%    101:node             [JIT] tid 101           [.] 0x00007f00ec0d16c1
     5.00%    101:node             node                    [.] v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>
     5.00%    101:node             [kernel.kallsyms]       [k] copy_folio_from_iter_atomic
     5.00%    101:node             libc.so.6               [.] __memmove_avx512_unaligned_erms
    25.00%   2201:postgres         postgres                [.] hash_search_with_hash_value
    10.00%   3002:nats-server      nats-server             [.] runtime.mallocgc
     5.00%    900:node             node                    [.] Builtins_LoadIC
    30.00%      0:swapper          [kernel.kallsyms]       [k] pvm_safe_halt_hc
     5.00%     83:kdamond.0        [kernel.kallsyms]       [k] ptep_test_and_clear_young
`;

describe('perf report reader (tools/bench/lib/perf-report.mjs)', () => {
  it('groups threads by the service they belong to, servers by name, and leaves idle time out', () => {
    const s = summarise(REPORT, [[101, 'intake'], [102, 'intake']], [[900, 'the bench (HTTP client)']]);
    const share = Object.fromEntries(s.processes.map((p: { name: string; share: number }) => [p.name, Math.round(p.share * 1000) / 10]));
    // 100 % = every sample but the idle task's (30 %): intake's two threads hold 55 of those 100.
    expect(share).toEqual({
      intake: 55,
      postgres: 25,
      'nats-server': 10,
      'the bench (HTTP client)': 5,
      'other (kernel threads, other servers)': 5,
    });
    expect(Math.round(s.nodeShare * 100)).toBe(55);
  });

  it("sorts a service's samples into kinds of work, the compiler thread's among them", () => {
    const s = summarise(REPORT, [[101, 'intake'], [102, 'intake']]);
    const share = Object.fromEntries(s.nodeCategories.map((c: { name: string; share: number }) => [c.name, Math.round(c.share * 1000) / 10]));
    expect(share).toEqual({
      'V8 builtins and interpreter (property access, calls, promises)': 36.4,
      "V8's optimizing compiler": 18.2,
      'JavaScript compiled by V8 (optimized code)': 18.2,
      'garbage collection': 9.1,
      'kernel (syscalls, page faults, interrupts)': 9.1,
      'C library (memory copies, malloc)': 9.1,
    });
  });
});
