import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LINT = join(__dirname, '..', 'lint-boundaries.mjs');

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'reelay-lint-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const pkg = (name: string, tags: string[]) => JSON.stringify({ name, nx: { tags } });
// Built at run time so this file's own imports stay the only ones the linter sees here.
const importLine = (what: string, from: string) => `import ${what} from '${from}';\n`;

function lint(root: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('node', [LINT, root], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    const err = e as { stderr: string };
    return { ok: false, output: err.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const base = {
  'libs/contracts/package.json': pkg('@reelay/contracts', ['scope:shared', 'type:contracts']),
  'libs/contracts/src/index.ts': 'export const x = 1;\n',
  'libs/domain/package.json': pkg('@reelay/domain', ['scope:shared', 'type:domain']),
  'libs/store/package.json': pkg('@reelay/store', ['scope:shared', 'type:data-access']),
  'libs/store/src/index.ts': importLine('{ x }', '@reelay/contracts'),
  'libs/testing/package.json': pkg('@reelay/testing', ['scope:shared', 'type:testing']),
  'apps/gateway/package.json': pkg('@reelay/gateway', ['scope:gateway', 'type:app']),
  'apps/intake/package.json': pkg('@reelay/intake', ['scope:intake', 'type:app']),
};

describe('module boundary lint', () => {
  it('passes a workspace that follows the rules', () => {
    const r = lint(workspace({ ...base, 'apps/gateway/src/main.ts': `import '${'@reelay/store'}';\n` }));
    expect(r.ok).toBe(true);
  });
  it('fails when a domain lib depends on a data-access lib', () => {
    const r = lint(workspace({ ...base, 'libs/domain/src/index.ts': importLine('{ s }', '@reelay/store') }));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/type:domain project may only depend on/);
  });
  it('fails when one app imports another', () => {
    const r = lint(workspace({ ...base, 'apps/gateway/src/main.ts': importLine('{ a }', '@reelay/intake') }));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/apps cannot be imported/);
  });
  it('fails on a relative import into another project', () => {
    const r = lint(workspace({ ...base, 'apps/gateway/src/main.ts': importLine('{ x }', '../../../libs/contracts/src/index') }));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/relative import leaves/);
  });
  it('fails when production code imports the testing lib', () => {
    const r = lint(workspace({ ...base, 'libs/store/src/db.ts': importLine('{ t }', '@reelay/testing') }));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/for tests only/);
  });
  it('allows the testing lib in spec files', () => {
    const r = lint(workspace({ ...base, 'libs/store/src/db.spec.ts': importLine('{ t }', '@reelay/testing') }));
    expect(r.ok).toBe(true);
  });
});
