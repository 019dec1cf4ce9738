import { migratedPg, sleep, type PgHarness } from '../testing/polling-harness';
import { CALLBACK_GAP_MS, ERROR_STATUS_PREFIX, PollScheduleRepository, type CheckSlots, type NextCheck, type ScheduledCheck } from './poll-schedule.repository';

const next = (over: Partial<NextCheck> = {}): NextCheck => ({
  nextCheckAt: new Date(Date.now() + 60_000), checksDone: 1, checkErrors: 0, lastStatus: 'running', progress: null, delayedMarked: false, ...over,
});

describe('PollScheduleRepository (claims, leases, callbacks) on PostgreSQL', () => {
  let pg: PgHarness;
  let n = 0;
  const jobId = () => `job_${String(++n).padStart(26, '0')}`;
  const follow = async (id: string, dueInMs: number) => {
    const now = Date.now();
    await pg.schedule.follow({
      jobId: id, provider: 'seedance', providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 3_600_000),
      firstCheckAt: new Date(now + dueInMs), metadata: { correlationId: `c-${id}` },
    });
  };
  const claimOnly = async (ids: string[], leaseMs = 10_000) => (await pg.schedule.claimDue(100, leaseMs)).filter((c) => ids.includes(c.jobId));

  beforeAll(async () => {
    pg = await migratedPg('poll_schedule');
  });
  afterAll(async () => {
    await pg?.close();
  });

  it('follows a job once, whatever the redeliveries', async () => {
    const id = jobId();
    await follow(id, 0);
    await follow(id, 60_000);
    expect((await pg.schedule.find(id))?.checksDone).toBe(0);
    expect(await pg.schedule.find(id)).toMatchObject({ providerTaskId: `task-${id}` });
  });

  it('leaves the rows of the providers it is told to skip (at their cap of running checks) for a later claim', async () => {
    const [slow, other] = [jobId(), jobId()];
    await follow(slow, -10);
    await follow(other, -10);
    await pg.ds.query(`UPDATE poll_schedule SET provider = 'kling' WHERE job_id = $1`, [other]);
    const claimed = (await pg.schedule.claimDue(100, 10_000, ['seedance'])).map((c) => c.jobId);
    expect(claimed).toContain(other);
    expect(claimed).not.toContain(slow);
    expect((await claimOnly([slow])).map((c) => c.jobId)).toEqual([slow]);
  });

  it('claims no more rows of a provider than its room under the cap, leaving the rest due', async () => {
    const capped = [jobId(), jobId(), jobId(), jobId()];
    const others = [jobId(), jobId()];
    for (const id of [...capped, ...others]) await follow(id, -10);
    await pg.ds.query(`UPDATE poll_schedule SET provider = CASE WHEN job_id = ANY($1::text[]) THEN 'room-capped' ELSE 'room-other' END WHERE job_id = ANY($2::text[])`, [capped, [...capped, ...others]]);
    const ids = [...capped, ...others];
    const claimed = (await pg.schedule.claimDue(100, 10_000, [], { of: new Map([['room-capped', 1]]), others: 1 })).filter((c) => ids.includes(c.jobId));
    expect(claimed.filter((c) => c.provider === 'room-capped')).toHaveLength(1);
    expect(claimed.filter((c) => c.provider === 'room-other')).toHaveLength(1);
    expect((await claimOnly(ids)).length).toBe(ids.length - 2);
  });

  it('claims only due rows, each by one claimer, and hands them out again after the lease', async () => {
    const due = [jobId(), jobId(), jobId(), jobId()];
    const later = jobId();
    for (const id of due) await follow(id, -10);
    await follow(later, 60_000);
    const ids = [...due, later];
    const [a, b] = await Promise.all([claimOnly(ids, 300), claimOnly(ids, 300)]);
    const claimed = [...a, ...b].map((c) => c.jobId).sort();
    expect(claimed).toEqual([...due].sort());
    expect(a[0]?.metadata ?? b[0]?.metadata).toMatchObject({ correlationId: expect.stringMatching(/^c-/) });
    expect(await claimOnly(ids)).toEqual([]);

    await sleep(400);
    const retaken = await claimOnly(ids);
    expect(retaken.map((c) => c.jobId).sort()).toEqual([...due].sort());
    // The first holders' late writes are fenced off by the new lease tokens.
    const stale = [...a, ...b][0];
    expect(await pg.schedule.reschedule(stale, next({ nextCheckAt: new Date(), checksDone: 9 }))).toBe(false);
    const fresh = retaken.find((c) => c.jobId === stale.jobId)!;
    expect(await pg.schedule.reschedule(fresh, next())).toBe(true);
    expect((await pg.schedule.find(stale.jobId))?.checksDone).toBe(1);
  });

  it('renews a lease only under its own token', async () => {
    const id = jobId();
    await follow(id, -10);
    const [claim] = await claimOnly([id], 300);
    expect(await pg.schedule.renewLeases([claim], 10_000)).toEqual(new Set([id]));
    await sleep(400);
    expect(await claimOnly([id])).toEqual([]); // renewed: still ours past the first 300 ms

    await pg.ds.query(`UPDATE poll_schedule SET lease_until = now() - interval '1 second' WHERE job_id = $1`, [id]);
    const [taken] = await claimOnly([id]);
    expect(taken.leaseToken).not.toBe(claim.leaseToken);
    // The fenced-off holder cannot win the row back by renewing.
    expect(await pg.schedule.renewLeases([claim], 10_000)).toEqual(new Set());
    expect(await pg.schedule.reschedule(taken, next())).toBe(true);
  });

  it('a callback during a check makes the next check immediate, not the planned one', async () => {
    const id = jobId();
    await follow(id, -10);
    const [claim] = await claimOnly([id]);
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    await pg.schedule.reschedule(claim, next({ nextCheckAt: new Date(Date.now() + 3_600_000) }));
    expect((await claimOnly([id])).map((c) => c.jobId)).toEqual([id]);
  });

  const nextCheckAt = async (id: string) => (await pg.schedule.find(id))!.nextCheckAt.getTime();

  it('given a flood of callbacks for one task, then one brings the check to now and the rest wait out the gap', async () => {
    const id = jobId();
    await follow(id, 60_000);
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    const [claim] = await claimOnly([id]);
    await pg.schedule.reschedule(claim, next({ nextCheckAt: new Date(Date.now() + 60_000) }));
    const checked = Date.now();
    for (let i = 0; i < 5; i++) expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    // Deferred to the end of the gap, not dropped and not immediate.
    expect(await claimOnly([id])).toEqual([]);
    expect(await nextCheckAt(id)).toBeGreaterThan(checked + CALLBACK_GAP_MS - 1000);
    expect(await nextCheckAt(id)).toBeLessThan(checked + CALLBACK_GAP_MS + 1000);
  });

  it('given a callback that brought a check forward, when another arrives inside the gap while that check runs, then the next check is at the gap\'s end, not the planned one', async () => {
    const id = jobId();
    await follow(id, 60_000);
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    const asked = Date.now();
    const [claim] = await claimOnly([id]);
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    await pg.schedule.reschedule(claim, next({ nextCheckAt: new Date(Date.now() + 60_000) }));
    expect(await nextCheckAt(id)).toBeLessThan(asked + CALLBACK_GAP_MS + 1000);
    expect(await nextCheckAt(id)).toBeGreaterThan(asked + CALLBACK_GAP_MS - 1000);

    // A callback served by the check (it arrived before the claim) leaves the plan alone.
    const [again] = await (async () => {
      await pg.ds.query(`UPDATE poll_schedule SET next_check_at = now() WHERE job_id = $1`, [id]);
      return claimOnly([id]);
    })();
    const planned = new Date(Date.now() + 60_000);
    await pg.schedule.reschedule(again, next({ nextCheckAt: planned }));
    expect(await nextCheckAt(id)).toBe(planned.getTime());
  });

  it('given a check waiting out a provider backoff, then a callback leaves the backoff as it is', async () => {
    const id = jobId();
    await follow(id, -10);
    const [claim] = await claimOnly([id]);
    const backoff = new Date(Date.now() + 30_000);
    await pg.schedule.reschedule(claim, next({ nextCheckAt: backoff, lastStatus: `${ERROR_STATUS_PREFIX}rate_limited`, checkErrors: 1 }));
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    expect(await nextCheckAt(id)).toBe(backoff.getTime());

    // A callback that arrives while a check runs does not cut short the backoff that check plans.
    const id2 = jobId();
    await follow(id2, -10);
    const [running] = await claimOnly([id2]);
    expect(await pg.schedule.requestCheck('seedance', `task-${id2}`)).toBe(true);
    await pg.schedule.reschedule(running, next({ nextCheckAt: backoff, lastStatus: `${ERROR_STATUS_PREFIX}server` }));
    expect(await nextCheckAt(id2)).toBe(backoff.getTime());
  });

  it('a callback for a task nobody follows changes nothing', async () => {
    expect(await pg.schedule.requestCheck('seedance', 'task-unknown')).toBe(false);
    expect(await pg.schedule.requestCheck('luma', `task-${jobId()}`)).toBe(false);
  });

  it('reschedules many claims in one statement, each only under its own lease', async () => {
    const ids = [jobId(), jobId(), jobId()];
    for (const id of ids) await follow(id, -10);
    const first = await claimOnly(ids, 200);
    await sleep(300);
    // ids[0] is retaken by a newer claim: the first holder's lease on it is lost.
    await pg.ds.query(`UPDATE poll_schedule SET next_check_at = now() + interval '1 hour' WHERE job_id <> $1 AND job_id = ANY($2)`, [ids[0], ids]);
    const [retaken] = await claimOnly([ids[0]!]);
    const byId = new Map(first.map((c) => [c.jobId, c]));
    // ids[1] and ids[2]: still held by the first claim (its lease ran out, but nobody took them).
    const due = new Date(Date.now() - 1000);
    const kept = await pg.schedule.rescheduleMany([
      { claim: byId.get(ids[0]!)!, next: next({ nextCheckAt: due, checksDone: 7, lastStatus: 'stale' }) },
      { claim: byId.get(ids[1]!)!, next: next({ nextCheckAt: due, checksDone: 2, progress: 40 }) },
      { claim: byId.get(ids[2]!)!, next: next({ nextCheckAt: due, checksDone: 3, delayedMarked: true, checkErrors: 1 }) },
    ]);
    expect(kept).toEqual([false, true, true]);
    expect(await pg.schedule.rescheduleMany([{ claim: retaken!, next: next({ nextCheckAt: due, checksDone: 5, progress: 90 }) }])).toEqual([true]);
    const rows = (await pg.ds.query(
      `SELECT job_id, checks_done, check_errors, last_status, progress, delayed_marked, lease_token FROM poll_schedule WHERE job_id = ANY($1) ORDER BY job_id`,
      [ids],
    )) as Record<string, unknown>[];
    expect(rows).toEqual([
      { job_id: ids[0], checks_done: 5, check_errors: 0, last_status: 'running', progress: 90, delayed_marked: false, lease_token: null },
      { job_id: ids[1], checks_done: 2, check_errors: 0, last_status: 'running', progress: 40, delayed_marked: false, lease_token: null },
      { job_id: ids[2], checks_done: 3, check_errors: 1, last_status: 'running', progress: null, delayed_marked: true, lease_token: null },
    ]);
    // What a check recorded comes back with the next claim.
    const again = await claimOnly(ids);
    expect(again.map((c) => [c.jobId, c.progress, c.delayedMarked]).sort()).toEqual([
      [ids[0], 90, false],
      [ids[1], 40, false],
      [ids[2], null, true],
    ]);
  });

  it('renewals, reschedules and removals of the same rows, in opposite orders at once, never deadlock', async () => {
    // The plan a large table gets: the id arrays drive index lookups, so each statement would lock
    // its rows in its own array's order unless the statements share a key order.
    const indexPlan = new PollScheduleRepository({
      query: async (sql: string, params?: unknown[]) => {
        const runner = pg.ds.createQueryRunner();
        try {
          await runner.startTransaction();
          await runner.query(`SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_bitmapscan = off`);
          const result = await runner.query(sql, params);
          await runner.commitTransaction();
          return result;
        } catch (err) {
          await runner.rollbackTransaction().catch(() => undefined);
          throw err;
        } finally {
          await runner.release();
        }
      },
    });
    for (let round = 0; round < 5; round++) {
      const ids = Array.from({ length: 2000 }, jobId);
      const now = Date.now();
      await pg.schedule.followMany(ids.map((id) => ({ jobId: id, provider: 'seedance', providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 3_600_000), firstCheckAt: new Date(now - 10), metadata: {} })));
      const claims = (await pg.schedule.claimDue(5000, 10_000)).filter((c) => ids.includes(c.jobId)).sort((a, b) => a.jobId.localeCompare(b.jobId));
      expect(claims).toHaveLength(2000);
      const reversed = [...claims].reverse();
      await expect(
        Promise.all([
          indexPlan.renewLeases(claims, 10_000),
          indexPlan.rescheduleMany(reversed.map((claim) => ({ claim, next: next() }))),
          indexPlan.renewLeases(reversed, 10_000),
          indexPlan.removeMany(claims.slice(0, 1000).map((c) => c.jobId).reverse()),
        ]),
      ).resolves.toBeDefined();
    }
  }, 60_000);

  /** Slots that hold at most `free` at a time; records what was held, filled and started. */
  const fakeSlots = (free: number, skipped: string[] = []) => {
    const log: string[] = [];
    const started: ScheduledCheck[] = [];
    const slots: CheckSlots = {
      leaseMs: 10_000,
      reserve: (wanted) => {
        const got = Math.min(wanted, free);
        free -= got;
        log.push(`reserve ${wanted} → ${got}`);
        return got;
      },
      fill: (count, claims) => {
        free += count;
        started.push(...claims);
        log.push(`fill ${count} with ${claims.length}`);
      },
      room: () => ({ skip: skipped }),
    };
    return { slots, log, started };
  };

  it('a follow due now is written already claimed into a free slot: its check starts with no claim statement', async () => {
    const statements: string[] = [];
    const counted = new PollScheduleRepository({ query: (sql: string, params?: unknown[]) => (statements.push(/\b(INSERT|UPDATE|DELETE) (INTO |FROM )?poll_schedule\b/.exec(sql)?.[1] ?? sql), pg.ds.query(sql, params)) });
    const { slots, log, started } = fakeSlots(2);
    counted.offerSlots(slots);
    let wakes = 0;
    counted.onDueNow(() => wakes++);
    const due = [jobId(), jobId(), jobId()];
    const later = jobId();
    const now = Date.now();
    const row = (id: string, dueInMs: number) => ({
      jobId: id, provider: 'seedance', providerTaskId: `task-${id}`, acceptedAt: new Date(now - 20), deadlineAt: new Date(now + 60_000),
      firstCheckAt: new Date(now + dueInMs), metadata: { correlationId: `c-${id}` },
    });
    await Promise.all([...due.map((id) => counted.follow(row(id, -20))), counted.follow(row(later, 60_000))]);

    expect(statements).toEqual(['INSERT']);
    expect(log).toEqual(['reserve 3 → 2', 'fill 2 with 2']);
    expect(started.map((c) => c.jobId)).toEqual(due.slice(0, 2));
    expect(started[0]).toMatchObject({ providerTaskId: `task-${due[0]}`, checksDone: 0, metadata: { correlationId: `c-${due[0]}` } });
    expect(started[0]!.latenessMs).toBeGreaterThanOrEqual(20);
    // The third due row found no free slot: the ticker is woken to claim it in a round.
    expect(wakes).toBe(1);
    const ids = [...due, later];
    expect((await claimOnly(ids)).map((c) => c.jobId)).toEqual([due[2]]);
    // The claims written at insert hold real leases, fenced by their token like any claim.
    expect(await pg.schedule.reschedule({ ...started[0]!, leaseToken: '00000000-0000-4000-8000-000000000000' }, next())).toBe(false);
    expect(await pg.schedule.reschedule(started[0]!, next({ checksDone: 1 }))).toBe(true);
    expect((await pg.schedule.find(due[0]!))?.checksDone).toBe(1);
  });

  it('a follow due now of a provider the slots skip (paused after a 429, at its cap) is left due for a claim round', async () => {
    const repo = new PollScheduleRepository(pg.ds);
    const { slots, log, started } = fakeSlots(4, ['runway']);
    repo.offerSlots(slots);
    let wakes = 0;
    repo.onDueNow(() => wakes++);
    const now = Date.now();
    const row = (id: string, provider: string) => ({
      jobId: id, provider, providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 60_000), firstCheckAt: new Date(now - 5), metadata: {},
    });
    const [paused, other] = [jobId(), jobId()];
    await Promise.all([repo.follow(row(paused, 'runway')), repo.follow(row(other, 'seedance'))]);
    expect(log).toEqual(['reserve 1 → 1', 'fill 1 with 1']);
    expect(started.map((c) => c.jobId)).toEqual([other]);
    expect(wakes).toBe(1);
    expect((await claimOnly([paused, other])).map((c) => c.jobId)).toEqual([paused]);
  });

  it('a batch of follows due now claims no more of a provider\'s rows than its room under the cap', async () => {
    const repo = new PollScheduleRepository(pg.ds);
    const { slots, log, started } = fakeSlots(8);
    repo.offerSlots({ ...slots, room: () => ({ skip: [], of: new Map([['runway', 1]]), others: 2 }) });
    const now = Date.now();
    const row = (id: string, provider: string) => ({
      jobId: id, provider, providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 60_000), firstCheckAt: new Date(now - 5), metadata: {},
    });
    const ids = [jobId(), jobId(), jobId(), jobId(), jobId(), jobId()];
    await Promise.all(ids.map((id, i) => repo.follow(row(id, i < 3 ? 'runway' : 'luma'))));
    expect(log).toEqual(['reserve 3 → 3', 'fill 3 with 3']);
    expect(started.filter((c) => c.provider === 'runway')).toHaveLength(1);
    expect(started.filter((c) => c.provider === 'luma')).toHaveLength(2);
  });

  it('a redelivered follow claims nothing and gives its slot back; a follow due later holds no slot', async () => {
    const repo = new PollScheduleRepository(pg.ds);
    const { slots, log, started } = fakeSlots(4);
    repo.offerSlots(slots);
    const id = jobId();
    await follow(id, 0);
    const now = Date.now();
    const again = { jobId: id, provider: 'seedance', providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 60_000), firstCheckAt: new Date(now - 5), metadata: {} };
    await repo.follow(again);
    await repo.follow({ ...again, jobId: jobId(), firstCheckAt: new Date(now + 60_000) });
    expect(log).toEqual(['reserve 1 → 1', 'fill 1 with 0']);
    expect(started).toEqual([]);
  });

  it('writes concurrent follows, reschedules and removals one statement per kind', async () => {
    const statements: string[] = [];
    const counted = new PollScheduleRepository({ query: (sql: string, params?: unknown[]) => (statements.push(/\b(INSERT|UPDATE|DELETE) (INTO |FROM )?poll_schedule\b/.exec(sql)?.[1] ?? sql), pg.ds.query(sql, params)) });
    const ids = Array.from({ length: 5 }, jobId);
    const now = Date.now();
    await Promise.all(
      [...ids, ids[0]!].map((id) =>
        counted.follow({ jobId: id, provider: 'seedance', providerTaskId: `task-${id}`, acceptedAt: new Date(now), deadlineAt: new Date(now + 60_000), firstCheckAt: new Date(now - 10), metadata: {} }),
      ),
    );
    expect(statements).toEqual(['INSERT']);
    const claims = (await counted.claimDue(100, 10_000)).filter((c) => ids.includes(c.jobId));
    expect(claims).toHaveLength(5);
    statements.length = 0;
    const kept = await Promise.all(claims.map((c, i) => counted.reschedule(i === 0 ? { ...c, leaseToken: '00000000-0000-4000-8000-000000000000' } : c, next({ checksDone: i }))));
    expect(kept).toEqual([false, true, true, true, true]);
    expect(statements).toEqual(['UPDATE']);
    statements.length = 0;
    await Promise.all(ids.map((id) => counted.remove(id)));
    expect(statements).toEqual(['DELETE']);
    for (const id of ids) expect(await pg.schedule.find(id)).toBeNull();
  });
});
