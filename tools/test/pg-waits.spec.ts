import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const LIB = join(__dirname, '..', 'bench', 'lib', 'pg-waits.mjs');

/** Calls an export of the ESM helper in its own node (jest here is CommonJS). */
function call(fn: string, ...args: unknown[]) {
  const script = `import(${JSON.stringify(LIB)}).then((m) => {
    const args = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify(m[${JSON.stringify(fn)}](...args) ?? null));
  })`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(args)], { encoding: 'utf8' }));
}

describe('PostgreSQL wait sampling', () => {
  it('names statements by kind, the group commit apart from a single append', () => {
    expect(call('statementKind', 'SELECT reelay_append_groups($1::jsonb) AS r')).toBe('append (group commit)');
    expect(call('statementKind', 'SELECT reelay_append($1::jsonb, $2::jsonb) AS r')).toBe('append (one)');
    expect(call('statementKind', '  COMMIT')).toBe('COMMIT');
    expect(call('statementKind', 'SELECT global_position::text AS global_position FROM events WHERE transaction_id < $1')).toBe('log reads (relay, projections)');
    expect(call('statementKind', 'UPDATE poll_schedule s SET lease_token = $3')).toBe('poll schedule');
    expect(call('statementKind', 'VACUUM something')).toBe('other');
  });

  it('says what a backend waits on in words', () => {
    expect(call('waitLabel', null, null)).toBe('on CPU');
    expect(call('waitLabel', 'IO', 'WALSync')).toBe('WAL flush (fsync)');
    expect(call('waitLabel', 'Lock', 'object')).toBe('lock: NOTIFY queue at commit');
    expect(call('waitLabel', 'Lock', 'advisory')).toBe('lock: advisory');
    expect(call('waitLabel', 'Client', 'ClientRead')).toBe('Client: ClientRead');
  });

  it('averages the samples per kind and wait, largest first', () => {
    const script = `import(${JSON.stringify(LIB)}).then((m) => {
      const counts = new Map();
      m.tally(counts, [{ query: 'COMMIT', wait_event_type: 'IO', wait_event: 'WALSync' }, { query: 'COMMIT', wait_event_type: 'IO', wait_event: 'WALSync' }]);
      m.tally(counts, []);
      m.tally(counts, [{ query: 'SELECT reelay_append_groups($1)', wait_event_type: null, wait_event: null }]);
      m.tally(counts, []);
      process.stdout.write(JSON.stringify(m.waitTable(counts, 4)));
    })`;
    const table = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(table).toEqual([
      { kind: 'COMMIT', wait: 'WAL flush (fsync)', backends: 0.5 },
      { kind: 'append (group commit)', wait: 'on CPU', backends: 0.25 },
    ]);
  });
});
