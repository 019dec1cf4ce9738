import { newJobId } from '@reelay/job-domain';
import { createTestDatabase, TEST_DATABASE_ADMIN_URL, type TestDatabase } from '@reelay/testing';
import { Client } from 'pg';
import { SubmitLocks } from './submit-locks';

describe('SubmitLocks (real PostgreSQL sessions)', () => {
  let db: TestDatabase;
  const opened: SubmitLocks[] = [];
  const replica = (name: string) => {
    const locks = new SubmitLocks(db.url, `reelay-test-locks-${name}`);
    opened.push(locks);
    return locks;
  };

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_locks');
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    await db.drop();
  });

  it('gives a job to one delivery at a time, in this process and across replicas, and to the next once released', async () => {
    const a = replica('a1');
    const b = replica('b1');
    const jobId = newJobId();

    const lease = await a.tryLock(jobId);
    expect(lease?.held).toBe(true);
    expect(await a.tryLock(jobId)).toBeNull();
    expect(await b.tryLock(jobId)).toBeNull();

    await lease!.release();
    expect(lease!.held).toBe(false);
    const next = await b.tryLock(jobId);
    expect(next?.held).toBe(true);
    expect(await a.tryLock(jobId)).toBeNull();
    await next!.release();
  });

  it('takes the locks of jobs asked for at the same time in one go, each to its own delivery', async () => {
    const a = replica('a2');
    const jobs = Array.from({ length: 20 }, () => newJobId());
    const leases = await Promise.all([...jobs, jobs[0]].map((j) => a.tryLock(j)));
    expect(leases.slice(0, 20).every((l) => l?.held)).toBe(true);
    expect(leases[20]).toBeNull();
    await Promise.all(leases.map((l) => l?.release()));
    const b = replica('b2');
    const again = await Promise.all(jobs.map((j) => b.tryLock(j)));
    expect(again.every((l) => l?.held)).toBe(true);
  });

  it('frees the locks of a replica whose session ended (a killed process), and its leases say they are lost', async () => {
    const a = replica('a3');
    const b = replica('b3');
    const jobId = newJobId();
    const lease = await a.tryLock(jobId);
    expect(await b.tryLock(jobId)).toBeNull();

    const admin = new Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reelay-test-locks-a3'`);
    } finally {
      await admin.end();
    }
    await waitFor(() => lease!.held === false);

    const taken = await b.tryLock(jobId);
    expect(taken?.held).toBe(true);
    // The lost lease's release must not free what another session holds now.
    await lease!.release();
    expect(await replica('c3').tryLock(jobId)).toBeNull();
    // And the replica whose session ended works again on a new one.
    const other = await a.tryLock(newJobId());
    expect(other?.held).toBe(true);
  });

  it('given a lock statement that fails, then the leases already on that session stay held, and the session ends with the last of them', async () => {
    const a = replica('a5');
    const b = replica('b5');
    const otherId = newJobId();
    const other = await a.tryLock(otherId);
    const failed = failFirst(a, 'pg_try_advisory_lock');

    await expect(a.tryLock(newJobId())).rejects.toThrow('statement timeout');
    expect(failed()).toBe(1);
    // The delivery holding `other` may be between its intent and the provider call: it must not read lost.
    expect(other?.held).toBe(true);
    expect(await b.tryLock(otherId)).toBeNull();
    // New locks go to a new session meanwhile.
    const fresh = await a.tryLock(newJobId());
    expect(fresh?.held).toBe(true);

    // Its last lease done, the session ends, and every lock on it with it.
    await other!.release();
    expect((await takenWithin(b, otherId))?.held).toBe(true);
    expect(fresh?.held).toBe(true);
  });

  it('frees a lock whose unlock failed on a live session, by ending that session once its other leases are done', async () => {
    const a = replica('a4');
    const b = replica('b4');
    const jobId = newJobId();
    const lease = await a.tryLock(jobId);
    const other = await a.tryLock(newJobId());
    const failed = failFirst(a, 'pg_advisory_unlock');

    await lease!.release();
    expect(failed()).toBe(1);
    // The other lease on that session is not cut short: its delivery may be between its intent and the provider call.
    expect(other?.held).toBe(true);
    expect(await b.tryLock(jobId)).toBeNull();
    // New locks go to a new session meanwhile.
    const fresh = await a.tryLock(newJobId());
    expect(fresh?.held).toBe(true);

    // Its last lease done, the session ends, and the lock the failed unlock left behind with it.
    await other!.release();
    expect((await takenWithin(b, jobId))?.held).toBe(true);
    expect(fresh?.held).toBe(true);
    await fresh!.release();
  });
});

/** Makes the first statement of `locks`' current session that contains `sql` fail as a statement timeout would; returns how many did. */
function failFirst(locks: SubmitLocks, sql: string): () => number {
  const client = (locks as unknown as { session: { client: Client } }).session.client;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let failed = 0;
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    if (String(args[0]).includes(sql) && failed++ === 0) return Promise.reject(new Error('canceling statement due to statement timeout'));
    return query(...args);
  };
  return () => failed;
}

/** The lock of `jobId` once another session let it go (a session ends a moment after its last lease). */
async function takenWithin(locks: SubmitLocks, jobId: string, timeoutMs = 5_000) {
  let taken = await locks.tryLock(jobId);
  for (const until = Date.now() + timeoutMs; !taken && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
    taken = await locks.tryLock(jobId);
  }
  return taken;
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
