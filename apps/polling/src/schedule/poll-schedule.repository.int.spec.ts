import { migratedPg, sleep, type PgHarness } from '../testing/polling-harness';

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
    expect(await pg.schedule.reschedule(stale, { nextCheckAt: new Date(), checksDone: 9, checkErrors: 0, lastStatus: 'running' })).toBe(false);
    const fresh = retaken.find((c) => c.jobId === stale.jobId)!;
    expect(await pg.schedule.reschedule(fresh, { nextCheckAt: new Date(Date.now() + 60_000), checksDone: 1, checkErrors: 0, lastStatus: 'running' })).toBe(true);
    expect((await pg.schedule.find(stale.jobId))?.checksDone).toBe(1);
  });

  it('a callback during a check makes the next check immediate, not the planned one', async () => {
    const id = jobId();
    await follow(id, -10);
    const [claim] = await claimOnly([id]);
    expect(await pg.schedule.requestCheck('seedance', `task-${id}`)).toBe(true);
    await pg.schedule.reschedule(claim, { nextCheckAt: new Date(Date.now() + 3_600_000), checksDone: 1, checkErrors: 0, lastStatus: 'running' });
    expect((await claimOnly([id])).map((c) => c.jobId)).toEqual([id]);
  });

  it('a callback for a task nobody follows changes nothing', async () => {
    expect(await pg.schedule.requestCheck('seedance', 'task-unknown')).toBe(false);
    expect(await pg.schedule.requestCheck('luma', `task-${jobId()}`)).toBe(false);
  });
});
