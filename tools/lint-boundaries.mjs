#!/usr/bin/env node
// Enforces the Nx module-boundary rules in tools/module-boundaries.json over every project's
// imports: tag constraints, no imports of apps, no relative paths into another project, and
// testing libraries only from spec files. Exits 1 on any violation.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const rules = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'module-boundaries.json'), 'utf8'));

function projects() {
  const out = [];
  for (const group of ['apps', 'libs', '.']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of group === '.' ? ['tools', 'e2e', 'deploy'] : readdirSync(dir)) {
      const pkgPath = join(dir, name, 'package.json');
      if (!existsSync(pkgPath)) continue;
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
      out.push({ name: pkg.name, root: join(dir, name), kind: group === 'apps' ? 'apps' : 'libs', tags: pkg.nx?.tags ?? [] });
    }
  }
  return out;
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry) && !entry.endsWith('.d.ts')) yield p;
  }
}

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

const all = projects();
const byName = new Map(all.map((p) => [p.name, p]));
const violations = [];
const untagged = all.filter((p) => !p.tags.some((t) => t.startsWith('scope:')) || !p.tags.some((t) => t.startsWith('type:')));
for (const p of untagged) violations.push(`${p.name}: needs one scope:* and one type:* tag`);

for (const project of all) {
  const dirs = ['src', 'test'].map((d) => join(project.root, d)).filter(existsSync);
  for (const file of dirs.flatMap((d) => [...sourceFiles(d)])) {
    const text = readFileSync(file, 'utf8');
    const isSpec = /\.spec\.[cm]?[tj]s$/.test(file) || [`${sep}test${sep}`, `${sep}test-support${sep}`, `${sep}testing${sep}`, `${sep}e2e${sep}`].some((d) => file.includes(d));
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
      const where = `${relative(root, file)}: imports '${spec}'`;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(project.root + sep) && target !== project.root) violations.push(`${where} — relative import leaves ${project.name}; import the library by its name`);
        continue;
      }
      const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      const target = byName.get(pkgName);
      if (!target || target === project) continue;
      if (spec !== pkgName) violations.push(`${where} — deep import into ${target.name}; use its public index`);
      if (target.kind === 'apps') {
        violations.push(`${where} — apps cannot be imported`);
        continue;
      }
      if (target.tags.some((t) => rules.testOnlyTags.includes(t)) && !isSpec) {
        violations.push(`${where} — ${target.name} is for tests only`);
      }
      for (const c of rules.depConstraints) {
        if (!project.tags.includes(c.sourceTag)) continue;
        if (!target.tags.some((t) => c.onlyDependOnLibsWithTags.includes(t))) {
          violations.push(`${where} — a ${c.sourceTag} project may only depend on ${c.onlyDependOnLibsWithTags.join(', ') || 'nothing'}; ${target.name} is ${target.tags.join(', ')}`);
        }
      }
    }
  }
}

if (violations.length) {
  console.error(`Module boundary violations (${violations.length}):\n${violations.map((v) => `  ${v}`).join('\n')}`);
  process.exit(1);
}
console.log(`Module boundaries OK (${all.length} projects).`);
