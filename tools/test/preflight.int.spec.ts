import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe('npm start: whether the local PostgreSQL takes the login (tools/lib/preflight.mjs)', () => {
  const LIB = join(__dirname, '..', 'lib', 'preflight.mjs');
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const refused = (url: string): string | null =>
    JSON.parse(execFileSync(process.execPath, ['-e', `import(${JSON.stringify(LIB)}).then(async (m) => process.stdout.write(JSON.stringify(await m.postgresLoginRefused(process.argv[1]))))`, url], { encoding: 'utf8' }));

  it('lets a login it takes through, and names why it refuses one (a role that does not exist)', () => {
    expect(refused(base)).toBeNull();
    const stranger = new URL(base);
    stranger.username = 'reelay_no_such_role';
    expect(refused(stranger.toString())).toMatch(/reelay_no_such_role/);
  });
});
