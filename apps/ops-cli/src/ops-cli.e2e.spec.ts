import { jetstreamManager } from '@nats-io/jetstream';
import { creditStreamId } from '@reelay/contracts';
import { DeadLetterStore, EventStore, openMigrated } from '@reelay/event-store';
import { connectNats, ensureEventStream, eventStreamName, eventTypeSubject } from '@reelay/messaging';
import { createTestDatabase, deleteNatsPrefix, TEST_NATS_URL, uniqueNatsPrefix, WORKSPACE_ROOT, type TestDatabase } from '@reelay/testing';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

let db: TestDatabase;
const CLI = join(WORKSPACE_ROOT, 'apps/ops-cli/dist/main.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

beforeAll(async () => {
  db = await createTestDatabase('cli');
});
afterAll(async () => {
  await db?.drop();
});

describe('operator CLI', () => {
  it('creates a key with credits and reports the balance', () => {
    const created = cli('keys', 'create', '--user', 'carol', '--credits', '50');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ userId: 'carol', creditsGranted: 50, key: expect.stringMatching(/^rly_/) });
    expect(cli('credits', 'grant', '--user', 'carol', '--amount', '25').code).toBe(0);
    expect(JSON.parse(cli('credits', 'balance', '--user', 'carol').out)).toMatchObject({ balance: 75, granted: 75 });
  });
  it('lists a user\'s keys by id and revokes one by that id, the key itself not needed', () => {
    const created = JSON.parse(cli('keys', 'create', '--user', 'dora', '--label', 'laptop').out) as { key: string; id: string };
    const listed = cli('keys', 'list', '--user', 'dora');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject({ id: created.id, userId: 'dora', label: 'laptop', revokedAt: null });
    expect(listed.out).not.toContain(created.key);
    expect(JSON.parse(cli('keys', 'revoke', '--id', created.id).out)).toEqual({ revoked: 1 });
    expect(JSON.parse(cli('keys', 'list', '--user', 'dora').out).revokedAt).toEqual(expect.any(String));
    expect(cli('keys', 'revoke')).toMatchObject({ code: 2, err: expect.stringMatching(/--id <key id>/) });
    expect(cli('keys', 'revoke', '--user')).toMatchObject({ code: 2, err: expect.stringMatching(/--user needs a value/) });
    expect(cli('keys', 'revoke', '--id', 'nope')).toMatchObject({ code: 2, err: expect.stringMatching(/12 hexadecimal/) });
  });
  it('creates a read-only key that expires, and says so in the list', () => {
    const created = JSON.parse(cli('keys', 'create', '--user', 'erin', '--scope', 'read', '--expires-in', '90d').out) as { id: string; scope: string; expiresAt: string };
    expect(created).toMatchObject({ scope: 'read', expiresAt: expect.any(String) });
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    expect(JSON.parse(cli('keys', 'list', '--user', 'erin').out)).toMatchObject({ id: created.id, scope: 'read', expiresAt: created.expiresAt, revokedAt: null });
    expect(cli('keys', 'create', '--user', 'erin', '--scope', 'admin')).toMatchObject({ code: 2, err: expect.stringMatching(/--scope is one of full, read/) });
    expect(cli('keys', 'create', '--user', 'erin', '--expires-in', 'soon')).toMatchObject({ code: 2, err: expect.stringMatching(/--expires-in takes a number and a unit/) });
  });

  it('explains bad usage with exit code 2', () => {
    expect(cli('credits', 'grant', '--user', 'carol', '--amount', '-3')).toMatchObject({ code: 2, err: expect.stringMatching(/positive whole number/) });
    expect(cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command/) });
    expect(cli('jobs', 'history', 'job_nope')).toMatchObject({ code: 2, err: expect.stringMatching(/no job/) });
    expect(cli()).toMatchObject({ code: 2, out: expect.stringMatching(/keys create/) });
  });
  it('checks every argument of keys create before it writes anything', () => {
    for (const credits of ['abc', '0', '1e20', '2.5']) {
      expect(cli('keys', 'create', '--user', 'gina', '--credits', credits)).toMatchObject({ code: 2, err: expect.stringMatching(/--credits must be a positive whole number/) });
    }
    expect(cli('keys', 'create', '--user', 'gina', '--key', 'rly_short')).toMatchObject({ code: 2, err: expect.stringMatching(/--key/) });
    expect(cli('keys', 'list', '--user', 'gina').out).toBe('no keys');
  });
  it('grants the credits of keys create --key once, however often it is run', () => {
    const key = `rly_${'Ab1'.repeat(10)}xy`;
    const first = cli('keys', 'create', '--user', 'hugo', '--key', key, '--credits', '40');
    expect(JSON.parse(first.out)).toMatchObject({ key, creditsGranted: 40 });
    const again = cli('keys', 'create', '--user', 'hugo', '--key', key, '--credits', '40');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ key, creditsGranted: 0 });
    expect(JSON.parse(cli('credits', 'balance', '--user', 'hugo').out)).toMatchObject({ balance: 40, granted: 40 });
  });
  it('prints the key it created when the grant of its credits fails, and a run with that key grants them once', async () => {
    // The ledger refuses writes for this user (a database fault at the grant, after the key was stored).
    const ds = await openMigrated(db.url, { poolSize: 2 });
    const stream = creditStreamId('quinn');
    await ds.query(`CREATE FUNCTION refuse_quinn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.stream_id = '${stream}' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$`);
    await ds.query(`CREATE TRIGGER refuse_quinn BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_quinn()`);
    try {
      const failed = cli('keys', 'create', '--user', 'quinn', '--credits', '15');
      expect(failed.code).toBe(1);
      const printed = JSON.parse(failed.out) as { key: string; id: string; creditsGranted: number };
      expect(printed).toMatchObject({ key: expect.stringMatching(/^rly_/), userId: 'quinn', creditsGranted: 0 });
      expect(failed.err).toMatch(/the key above was created, but granting its 15 credits failed .*disk full.*run keys create again with --key/);
      expect(failed.err).not.toContain(printed.key);
      expect(JSON.parse(cli('keys', 'list', '--user', 'quinn').out)).toMatchObject({ id: printed.id, revokedAt: null });

      await ds.query(`DROP TRIGGER refuse_quinn ON events`);
      const again = cli('keys', 'create', '--user', 'quinn', '--key', printed.key, '--credits', '15');
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out)).toMatchObject({ key: printed.key, creditsGranted: 15 });
      expect(JSON.parse(cli('credits', 'balance', '--user', 'quinn').out)).toMatchObject({ balance: 15, granted: 15 });
    } finally {
      await ds.query(`DROP TRIGGER IF EXISTS refuse_quinn ON events`);
      await ds.destroy();
    }
  }, 60_000);

  it('grants credits with --once once, however often it is run, and each token once', () => {
    expect(JSON.parse(cli('credits', 'grant', '--user', 'olga', '--amount', '30', '--once', 'order-1').out)).toEqual({ userId: 'olga', balance: 30, granted: 30 });
    const again = cli('credits', 'grant', '--user', 'olga', '--amount', '30', '--once', 'order-1');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toEqual({ userId: 'olga', balance: 30, granted: 0 });
    expect(again.err).toMatch(/granted with --once order-1 before/);
    expect(JSON.parse(cli('credits', 'grant', '--user', 'olga', '--amount', '5', '--once', 'order-2').out)).toMatchObject({ balance: 35, granted: 5 });
    // The token is the user's own: another user's grant under it is granted.
    expect(JSON.parse(cli('credits', 'grant', '--user', 'pia', '--amount', '5', '--once', 'order-1').out)).toMatchObject({ balance: 5, granted: 5 });
    expect(cli('credits', 'grant', '--user', 'olga', '--amount', '5', '--once', 'two words')).toMatchObject({ code: 2, err: expect.stringMatching(/--once takes a token/) });
    expect(JSON.parse(cli('credits', 'balance', '--user', 'olga').out)).toMatchObject({ balance: 35, granted: 35 });
  });
  it('refuses a flag its command does not take, and a value flag without a value', () => {
    expect(cli('dead-letters', 'replay', '--all', '--consumr', 'dispatch-submit')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown option --consumr/) });
    expect(cli('dead-letters', 'list', '--consumer')).toMatchObject({ code: 2, err: expect.stringMatching(/--consumer needs a value/) });
    expect(cli('keys', 'list', '--user', 'carol', '--credits', '5')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown option --credits/) });
  });
  it('refuses a bad user id with a usage message', () => {
    for (const args of [['credits', 'grant', '--user', 'no spaces', '--amount', '5'], ['credits', 'balance', '--user', 'a/b'], ['keys', 'create', '--user', 'no spaces']]) {
      const r = cli(...args);
      expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^--user takes a user id/) });
      expect(r.err).not.toContain('"code"');
    }
  });
  it('shows the credits held as a number, with the holds by job labelled', async () => {
    const ds = await openMigrated(db.url, { poolSize: 2 });
    try {
      const at = new Date().toISOString();
      await new EventStore(ds).append(creditStreamId('ivan'), 0, [
        { type: 'CreditsGranted', data: { userId: 'ivan', amount: 100, at } },
        { type: 'CreditsHeld', data: { userId: 'ivan', jobId: 'job_a', amount: 7, at } },
        { type: 'CreditsHeld', data: { userId: 'ivan', jobId: 'job_b', amount: 3, at } },
      ]);
    } finally {
      await ds.destroy();
    }
    expect(JSON.parse(cli('credits', 'balance', '--user', 'ivan').out)).toEqual({ userId: 'ivan', balance: 90, held: 10, granted: 100, settled: 0, heldByJob: { job_a: 7, job_b: 3 } });
  });
  it('refuses commands and sub-commands that are only names of Object.prototype', () => {
    for (const name of ['toString', 'constructor', '__proto__']) expect(cli(name)).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command/) });
    expect(cli('projections', 'rebuild', 'toString')).toMatchObject({ code: 2, err: expect.stringMatching(/projections rebuild <job_view>/) });
    expect(cli('keys', 'toString')).toMatchObject({ code: 2, err: expect.stringMatching(/keys create/) });
  });
  it('exits 1 when keys revoke <key> matches no active key', () => {
    expect(cli('keys', 'revoke', `rly_${'0'.repeat(32)}`)).toMatchObject({ code: 1, out: '', err: expect.stringMatching(/no active key matched/) });
  });
  it('prints its usage with exit code 0 when asked (--help is the image\'s default command)', () => {
    for (const ask of [['--help'], ['help']]) expect(cli(...ask)).toMatchObject({ code: 0, out: expect.stringMatching(/keys create/) });
  });
  it('rebuilds the job view from the log', () => {
    const r = cli('projections', 'rebuild', 'job_view');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ projection: 'job_view', eventsApplied: expect.any(Number) });
    expect(cli('projections', 'rebuild', 'nope')).toMatchObject({ code: 2, err: expect.stringMatching(/projections rebuild/) });
  });
  it('lists the jobs in a status that have not changed for a while, oldest first', async () => {
    const ds = await openMigrated(db.url, { poolSize: 2 });
    try {
      const row = (id: string, status: string, minutesAgo: number) =>
        ds.query(
          `INSERT INTO job_view (job_id, user_id, status, message, model, created_at, updated_at, version, job)
           VALUES ($1, 'erin', $2, 'm', 'gen4.5', now() - make_interval(mins => $3), now() - make_interval(mins => $3), 3, '{}')`,
          [id, status, minutesAgo],
        );
      await row('job_stuck_long', 'delayed', 180);
      await row('job_stuck_less', 'delayed', 90);
      await row('job_delayed_now', 'delayed', 0);
      await row('job_running_long', 'running', 180);
      const r = cli('jobs', 'list', '--status', 'delayed', '--older-than', '1h');
      expect(r.code).toBe(0);
      expect(r.out.split('\n').map((l) => JSON.parse(l).jobId)).toEqual(['job_stuck_long', 'job_stuck_less']);
      expect(cli('jobs', 'list', '--status', 'delayed', '--older-than', '2h').out.split('\n').map((l) => JSON.parse(l).jobId)).toEqual(['job_stuck_long']);
      expect(cli('jobs', 'list', '--status', 'stuck')).toMatchObject({ code: 2, err: expect.stringMatching(/--status is one of/) });
      expect(cli('jobs', 'list', '--status', 'delayed', '--older-than', 'soon')).toMatchObject({ code: 2, err: expect.stringMatching(/--older-than/) });
    } finally {
      await ds.destroy();
    }
  }, 60_000);
  it('lists dead letters', () => {
    expect(cli('dead-letters', 'list')).toMatchObject({ code: 0, out: 'no dead letters' });
  });
  it("replays every dead letter of a consumer in one command, and only those not replayed yet", async () => {
    const prefix = uniqueNatsPrefix('clidl');
    const nc = await connectNats(TEST_NATS_URL, 'cli-test');
    // Two connections: the migrations hold a lock on one while they run on another.
    const ds = await openMigrated(db.url, { poolSize: 2 });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureEventStream(jsm, prefix);
      const letters = new DeadLetterStore(ds);
      const subject = eventTypeSubject(prefix, 'job', 'JobSubmitted');
      const record = (consumer: string, n: number) =>
        letters.record({ consumer, subject, eventId: `00000000-0000-4000-8000-00000000000${n}`, payload: { n }, error: 'handler kept failing', deliveries: 5 });
      const [first] = [await record('dispatch-submit', 1), await record('dispatch-submit', 2), await record('polling-follow', 3)];
      expect(cli('dead-letters', 'replay', first.id).code).toBe(0);

      const r = cli('dead-letters', 'replay', '--all', '--consumer', 'dispatch-submit');
      expect(r.code).toBe(0);
      const lines = r.out.split('\n').map((l) => JSON.parse(l));
      expect(lines.at(-1)).toEqual({ replayedCount: 1, failedCount: 0 });
      expect((await jsm.streams.info(eventStreamName(prefix))).state.messages).toBe(2);
      expect(cli('dead-letters', 'list').out.split('\n').map((l) => JSON.parse(l).consumer)).toEqual(['polling-follow']);
      expect(JSON.parse(cli('dead-letters', 'replay', '--all').out.split('\n').at(-1)!)).toEqual({ replayedCount: 1, failedCount: 0 });
      expect(cli('dead-letters', 'list').out).toBe('no dead letters');
    } finally {
      await ds.destroy();
      await nc.close();
      await deleteNatsPrefix(prefix);
    }
  }, 60_000);
});
