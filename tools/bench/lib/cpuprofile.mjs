// Summarises V8 .cpuprofile files (written by `node --cpu-prof`): self time per function and per
// package/project, so the doc can say where a service's CPU goes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function origin(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node core';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/(apps|libs)\/([^/]+)\//.exec(url);
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '');
}

export function summariseProfile(file, top = 12) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const total = (p.endTime - p.startTime) / 1000; // ms
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (socket writes, JSON, crypto) have no URL: charge them to the nearest JS caller.
  const jsCaller = (id) => {
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      if (cf.url && !cf.url.startsWith('node:')) return cf;
    }
    return null;
  };
  const selfMs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    selfMs.set(p.samples[i], (selfMs.get(p.samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const pkgs = new Map();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const n = byId.get(id);
    const cf = n.callFrame;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)' && !cf.url) {
      if (cf.functionName === '(idle)') continue;
    }
    busy += ms;
    const short = cf.url ? cf.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(/.*\/work\/main\//, '') : '';
    let key = `${cf.functionName || '(anonymous)'} ${short ? `${short}:${cf.lineNumber + 1}` : ''}`.trim();
    const caller = !cf.url || cf.url.startsWith('node:') ? jsCaller(id) : null;
    if (caller) key += ` ← ${caller.functionName || '(anonymous)'} (${origin(caller.url)})`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const o = cf.functionName === '(garbage collector)' ? 'GC' : cf.functionName === '(program)' ? '(program)' : caller ? `${origin(caller.url)} (via native/node core)` : origin(cf.url);
    pkgs.set(o, (pkgs.get(o) ?? 0) + ms);
  }
  const sort = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms, share: ms / busy }));
  return { file, wallMs: total, busyMs: busy, functions: sort(fns), origins: sort(pkgs) };
}

/** The profile files in `dir`, one per process (named CPU.<date>.<pid>.<tid>.<seq>.cpuprofile). */
export function profilesIn(dir) {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
}
