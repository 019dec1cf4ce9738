// Reads `perf report --no-children --sort pid,dso,sym -g none --stdio` into shares per process and,
// for reelay's Node processes, per kind of work. No imports: tools/test runs it on its own.

/** What a symbol of a Node process is spent on; V8's own symbols are named in the node binary. */
export function categoryOf(dso, kernel, sym) {
  if (kernel) return 'kernel (syscalls, page faults, interrupts)';
  if (dso.startsWith('[JIT]') || dso.startsWith('perf-') || (dso === '[unknown]' && sym.startsWith('0x'))) return 'JavaScript compiled by V8 (optimized code)';
  if (/v8::internal::(compiler|maglev)::|OptimizingCompileDispatcher|TurbofanCompilationJob/.test(sym)) return "V8's optimizing compiler";
  if (/v8::internal::.*(Scaveng|Marking|Marker|Sweep|Evacuat|Compactor|RememberedSet|SlotSet|MinorGC|Heap::|MemoryChunk|ConcurrentMark)/.test(sym)) return 'garbage collection';
  if (sym.startsWith('Builtins_')) return 'V8 builtins and interpreter (property access, calls, promises)';
  if (dso.startsWith('libc') || dso.startsWith('libstdc')) return 'C library (memory copies, malloc)';
  return 'other native code (V8 runtime, Node, OpenSSL, libuv)';
}

/** One line of `perf report --sort pid,dso,sym`: "  0.57%  22003:node  node  [.] sha256_block…". */
const LINE = /^\s*([\d.]+)%\s+(\d+):(\S+)\s+(.+?)\s+\[([k.])\]\s+(.*)$/;

/** `threads`: the services' threads, whose symbols are put in categories; `others`: threads only named. */
export function summarisePerf(reportText, threads, others = new Map()) {
  const groups = new Map();
  const categories = new Map();
  let total = 0;
  for (const line of reportText.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, pct, tid, comm, dso, mark, sym] = m;
    if (comm === 'swapper' || comm === 'perf') continue; // idle, and the sampler itself
    const share = Number(pct);
    const group = threads.get(Number(tid)) ?? others.get(Number(tid)) ?? (['postgres', 'nats-server'].includes(comm) ? comm : 'other (kernel threads, other servers)');
    total += share;
    groups.set(group, (groups.get(group) ?? 0) + share);
    if (threads.has(Number(tid))) {
      const c = categoryOf(dso.trim(), mark === 'k', sym.trim());
      categories.set(c, (categories.get(c) ?? 0) + share);
    }
  }
  const sorted = (m, of) => [...m].sort((a, b) => b[1] - a[1]).map(([name, share]) => ({ name, share: share / of }));
  const nodeTotal = [...categories.values()].reduce((a, b) => a + b, 0);
  return { processes: sorted(groups, total), nodeCategories: sorted(categories, nodeTotal), nodeShare: nodeTotal / total };
}

