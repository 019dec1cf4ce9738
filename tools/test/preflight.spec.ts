import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('npm scripts: the checkout path (tools/lib/preflight.mjs)', () => {
  it('is a usable path when the checkout has a space and non-ASCII letters in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reelay-preflight-'));
    try {
      const checkout = join(dir, 'my vidéos', 'reelay');
      mkdirSync(join(checkout, 'tools', 'lib'), { recursive: true });
      const copy = join(checkout, 'tools', 'lib', 'preflight.mjs');
      copyFileSync(join(__dirname, '..', 'lib', 'preflight.mjs'), copy);
      const root = execFileSync(process.execPath, ['-e', `import(${JSON.stringify(copy)}).then((m) => process.stdout.write(m.ROOT))`], { encoding: 'utf8' });
      expect(root).toBe(checkout + '/');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
