import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@reelay/contracts';
import type { QueryRunner } from 'typeorm';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { LOG_START } from '../log/log-checkpoint';
import { EventStore } from '../store/event-store';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { PROJECTION_LOCK_NAMESPACE } from './projection-lock';
import { CatchUpStalledError, ProjectionRunner, type CatchUpWait, type ProjectionRunnerOptions, type ProjectionWrite } from './projection-runner';
import { PROJECTION_REBUILDING_SQL, rebuildMarkName, rebuildProjection } from './rebuild-projection';

const NAME = 'credit_totals';

async function projectTotals(events: RecordedEvent[], tx: QueryRunner): Promise<void> {
  for (const e of events) {
    if (e.type !== 'CreditsGranted') continue;
    const { userId, amount } = e.data as { userId: string; amount: number };
    await tx.query(
      `INSERT INTO credit_totals (user_id, total, grants) VALUES ($1, $2, 1)
       ON CONFLICT (user_id) DO UPDATE SET total = credit_totals.total + EXCLUDED.total, grants = credit_totals.grants + 1`,
      [userId, amount],
    );
  }
}

/** The same projection as one returned statement, which the runner sends with the checkpoint save. */
async function totalsWrite(events: RecordedEvent[]): Promise<ProjectionWrite | void> {
  const grants = events.filter((e) => e.type === 'CreditsGranted').map((e) => e.data as { userId: string; amount: number });
  if (!grants.length) return;
  return {
    sql: `INSERT INTO credit_totals (user_id, total, grants)
          SELECT user_id, sum(amount)::int, count(*)::int FROM unnest($1::text[], $2::int[]) AS g(user_id, amount) GROUP BY user_id
          ON CONFLICT (user_id) DO UPDATE SET total = credit_totals.total + EXCLUDED.total, grants = credit_totals.grants + EXCLUDED.grants`,
    params: [grants.map((g) => g.userId), grants.map((g) => g.amount)],
  };
}

describe('ProjectionRunner (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let store: EventStore;
  let checkpoints: CheckpointStore;
  const runners: ProjectionRunner[] = [];

  const runner = (overrides: Partial<ProjectionRunnerOptions> = {}) => {
    const r = new ProjectionRunner({ name: NAME, store, dataSource: m.dataSource, project: projectTotals, batchSize: 10, pollIntervalMs: 50, ...overrides });
    runners.push(r);
    return r;
  };
  const table = async () =>
    (await m.dataSource.query(`SELECT user_id, total, grants FROM credit_totals ORDER BY user_id`)) as { user_id: string; total: number; grants: number }[];
  const expectedTotals = async () =>
    (await m.dataSource.query(
      `SELECT data->>'userId' AS user_id, sum((data->>'amount')::int)::int AS total, count(*)::int AS grants
       FROM events WHERE type = 'CreditsGranted' GROUP BY 1 ORDER BY 1`,
    )) as { user_id: string; total: number; grants: number }[];
  /**
   * Writes n grants and waits until the log reader can see them: the horizon is shared with every
   * session on this PostgreSQL server, so another suite's open transaction can delay (not hide) them.
   */
  const grantSome = async (n: number) => {
    for (let i = 0; i < n; i++) await store.append(`credits-${randomUUID()}`, 0, [creditsGranted(`user-${i % 4}`, 1 + (i % 5))]);
    const [{ total }] = await m.dataSource.query(`SELECT count(*)::int AS total FROM events`);
    while ((await store.readAll(LOG_START, 100_000)).events.length < total) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    m = await migratedDatabase('projection', 6);
    store = new EventStore(m.dataSource);
    checkpoints = new CheckpointStore(m.dataSource);
    await m.dataSource.query(`CREATE TABLE credit_totals (user_id text PRIMARY KEY, total int NOT NULL, grants int NOT NULL)`);
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await m.close();
  });

  it('runOnce catches up in batches and stores the checkpoint with the rows', async () => {
    await grantSome(25);
    const r = runner();
    expect(await r.runOnce()).toBe(25);
    expect(await table()).toEqual(await expectedTotals());
    const cp = await checkpoints.get(NAME);
    const last = (await store.readAll(LOG_START, 1000)).checkpoint;
    expect(cp).toEqual(last);
    expect(await r.runOnce()).toBe(0);
  });

  it('a crash inside project leaves table and checkpoint as they were, and the next run applies the batch once', async () => {
    const before = { rows: await table(), cp: await checkpoints.get(NAME) };
    await grantSome(7);
    let calls = 0;
    const crashing = runner({
      project: async (events, tx) => {
        await projectTotals(events, tx); // the writes happen...
        if (++calls === 1) throw new Error('crash mid-batch'); // ...then the process "dies"
      },
    });
    await expect(crashing.runOnce()).rejects.toThrow('crash mid-batch');
    expect(await table()).toEqual(before.rows);
    expect(await checkpoints.get(NAME)).toEqual(before.cp);

    expect(await crashing.runOnce()).toBe(7);
    expect(await table()).toEqual(await expectedTotals());
  });

  it('a returned write lands in one statement with the checkpoint: when it fails neither moves, the next run applies the batch once', async () => {
    const before = { rows: await table(), cp: await checkpoints.get(NAME) };
    await grantSome(9);
    let calls = 0;
    const r = runner({
      project: async (events) => {
        const write = (await totalsWrite(events))!;
        // The first attempt's statement fails inside PostgreSQL (division by zero in the write).
        return ++calls === 1 ? { ...write, sql: write.sql.replace('sum(amount)::int', 'sum(amount / 0)::int') } : write;
      },
    });
    await expect(r.runOnce()).rejects.toThrow(/division by zero/);
    expect(await table()).toEqual(before.rows);
    expect(await checkpoints.get(NAME)).toEqual(before.cp);

    expect(await r.runOnce()).toBe(9);
    expect(await table()).toEqual(await expectedTotals());
    expect(await checkpoints.get(NAME)).toEqual((await store.readAll(LOG_START, 100_000)).checkpoint);
  });

  it('only one runner applies a batch at a time; together they apply every event once', async () => {
    await grantSome(30);
    const [a, b] = [runner(), runner()];
    await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    await a.runOnce();
    expect(await table()).toEqual(await expectedTotals());
  });

  it('stays current while started (woken by NOTIFY or polling) and stops gracefully', async () => {
    const r = runner();
    await r.start();
    await grantSome(12);
    const want = await expectedTotals();
    while (JSON.stringify(await table()) !== JSON.stringify(want)) await new Promise((res) => setTimeout(res, 20));
    await r.stop();
    await grantSome(3);
    await new Promise((res) => setTimeout(res, 150));
    expect(await table()).toEqual(want); // stopped: no longer applying
    await r.runOnce();
  });

  it('with a minimum batch interval, events committed one by one meanwhile are applied as one batch', async () => {
    await grantSome(1);
    const batches: number[] = [];
    const r = runner({
      batchSize: 100,
      minBatchIntervalMs: 1500,
      project: async (events, tx) => {
        batches.push(events.length);
        await projectTotals(events, tx);
      },
    });
    await r.start();
    while (batches.length === 0) await new Promise((res) => setTimeout(res, 10));
    await grantSome(5); // five commits, each a NOTIFY, inside the interval
    const want = await expectedTotals();
    while (JSON.stringify(await table()) !== JSON.stringify(want)) await new Promise((res) => setTimeout(res, 20));
    await r.stop();
    expect(batches.slice(1)).toEqual([5]);
  });

  it('rebuild from scratch gives the same table as the live projection', async () => {
    await grantSome(5);
    const r = runner();
    await r.runOnce();
    const live = await table();
    expect(live).toEqual(await expectedTotals());

    const replayed = await r.rebuild(['TRUNCATE credit_totals']);
    expect(replayed).toBe(Number((await m.dataSource.query(`SELECT count(*) AS n FROM events`))[0].n));
    expect(await table()).toEqual(live);
  });

  it('a rebuild that meets another runner holding the lock waits its turn and returns caught up, not half done', async () => {
    await grantSome(25);
    const r = runner();
    await r.runOnce();
    const want = await expectedTotals();
    await rebuildProjection(m.dataSource, NAME, 'TRUNCATE credit_totals');
    // Another runner (a running service's) in the middle of a batch: the lock is taken.
    const other = await m.extraDataSource(1);
    await other.query(`SELECT pg_advisory_lock(${PROJECTION_LOCK_NAMESPACE}, hashtext($1))`, [NAME]);
    expect(await r.runOnce()).toBe(0);
    const batches: number[] = [];
    const caughtUp = r.catchUp((n) => batches.push(n));
    await new Promise((res) => setTimeout(res, 300));
    expect(batches).toEqual([]);
    await other.query(`SELECT pg_advisory_unlock(${PROJECTION_LOCK_NAMESPACE}, hashtext($1))`, [NAME]);
    const [{ n }] = await m.dataSource.query(`SELECT count(*)::int AS n FROM events`);
    expect(await caughtUp).toBe(n);
    expect(batches.at(-1)).toBe(n);
    expect(await table()).toEqual(want);
    await other.destroy();
  });

  /** A transaction on its own connection that has taken an id, so log readers cannot read past it. */
  const openWriter = async () => {
    const other = await m.extraDataSource(1);
    const tx = other.createQueryRunner();
    await tx.connect();
    await tx.startTransaction();
    const [{ pid }] = await tx.query(`SELECT pg_current_xact_id(), pg_backend_pid() AS pid`);
    let ended: Promise<void> | undefined;
    return {
      pid: pid as number,
      end: () =>
        (ended ??= (async () => {
          await tx.commitTransaction();
          await tx.release();
          await other.destroy();
        })()),
    };
  };
  const rebuilding = async () => (await m.dataSource.query(PROJECTION_REBUILDING_SQL, [NAME]))[0].rebuilding as boolean;

  it('a rebuild returns only once events committed before it are applied, also those an open transaction keeps from being read yet', async () => {
    await grantSome(3);
    const writer = await openWriter();
    try {
      // Committed after the writer took its id: the log reader cannot read it until the writer ends.
      await store.append(`credits-${randomUUID()}`, 0, [creditsGranted('user-late', 7)]);
      const r = runner();
      let done = false;
      const rebuilt = r.rebuild(['TRUNCATE credit_totals']).finally(() => (done = true));
      await new Promise((res) => setTimeout(res, 500));
      expect(done).toBe(false);
      expect(await rebuilding()).toBe(true);
      await writer.end();
      await rebuilt;
    } finally {
      await writer.end();
    }
    expect(await table()).toEqual(await expectedTotals());
    expect((await table()).find((t) => t.user_id === 'user-late')).toMatchObject({ total: 7 });
    expect(await rebuilding()).toBe(false);
  });

  it('a catch-up held up by an open transaction says which one, and gives up after its stall timeout', async () => {
    const writer = await openWriter();
    const waits: CatchUpWait[] = [];
    try {
      await store.append(`credits-${randomUUID()}`, 0, [creditsGranted('user-stuck', 1)]);
      const r = runner({ catchUpStallTimeoutMs: 2_500 });
      const failed = r.catchUp((_, waiting) => waiting && waits.push(waiting)).catch((err: unknown) => err);
      const err = await failed;
      expect(err).toBeInstanceOf(CatchUpStalledError);
      // The oldest open transaction on the server: the writer's, unless a suite running beside this one holds an older one.
      expect(String((err as Error).message)).toMatch(/gave up after \d+ s without progress, waiting for transaction \d+ \(pid \d+, /);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(waits[0].waitingFor).toMatch(/pid \d+/);
    } finally {
      await writer.end();
    }
    expect(await runner().catchUp()).toBe(1);
  });

  it('a rebuild stays marked until the projection has caught up, also when the rebuild command stopped halfway', async () => {
    await grantSome(3);
    const r = runner({ batchSize: 2 });
    await r.runOnce();
    expect(await rebuilding()).toBe(false);
    const end = await rebuildProjection(m.dataSource, NAME, 'TRUNCATE credit_totals');
    expect(await checkpoints.get(rebuildMarkName(NAME))).toEqual(end);
    expect(await rebuilding()).toBe(true);
    await r.runBatch();
    expect(await rebuilding()).toBe(true);
    // Another runner (a service's) finishes it.
    await runner().runOnce();
    expect(await rebuilding()).toBe(false);
  });
});
