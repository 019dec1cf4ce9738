import { openMigrated } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { dispatchMigrations } from '../migrations';
import { bucketFor, SubmitBudgets } from './submit-budgets';

describe('SubmitBudgets (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_submit_budgets');
    ds = await openMigrated(db.url, { poolSize: 8, migrations: dispatchMigrations });
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('lets a burst of a tenth of the cap through at once and says how long until the next submit may go', async () => {
    const budgets = new SubmitBudgets(ds, (p) => (p === 'runway' ? 60 : 0)); // burst 6, then 0.9 a second
    const first = await Promise.all(Array.from({ length: 6 }, () => budgets.take('runway')));
    expect(first.every((t) => t.taken)).toBe(true);
    const seventh = await budgets.take('runway');
    expect(seventh.taken).toBe(false);
    if (!seventh.taken) expect(seventh.waitMs).toBeGreaterThan(0);
    if (!seventh.taken) expect(seventh.waitMs).toBeLessThanOrEqual(Math.ceil(1000 / 0.9));
    // A provider without a cap is never held back, and costs no statement.
    expect(await Promise.all(Array.from({ length: 50 }, () => budgets.take('kling')))).toEqual(Array.from({ length: 50 }, () => ({ taken: true })));
    expect((await ds.query(`SELECT provider FROM provider_submit_budgets`)).map((r: { provider: string }) => r.provider)).toEqual(['runway']);
  });

  it('gives the last tokens to one taker each when replicas take at the same moment (the row lock)', async () => {
    // Separate stores stand for replicas: each its own statements, on separate connections.
    const replicas = Array.from({ length: 4 }, () => new SubmitBudgets(ds, () => 100)); // burst 10, refilled 1.5 a second
    const started = Date.now();
    const takes = await Promise.all(Array.from({ length: 40 }, (_, i) => replicas[i % 4]!.take('luma')));
    const seconds = (Date.now() - started) / 1000;
    const taken = takes.filter((t) => t.taken).length;
    // The burst, plus at most what refilled while the 40 statements ran.
    expect(taken).toBeGreaterThanOrEqual(10);
    expect(taken).toBeLessThanOrEqual(10 + Math.floor(1.5 * seconds) + 1);
    const refused = takes.filter((t): t is { taken: false; waitMs: number } => !t.taken);
    expect(refused.length).toBe(40 - taken);
    expect(refused.every((t) => t.waitMs > 0 && t.waitMs <= Math.ceil(1000 / 1.5))).toBe(true);
  });

  it('never lets more than the cap through in a minute: burst plus refill (arithmetic of the bucket)', () => {
    for (const perMinute of [1, 5, 10, 12, 60, 100, 1000]) {
      const { burst, perSecond } = bucketFor(perMinute);
      expect(burst).toBeGreaterThanOrEqual(1);
      expect(perSecond).toBeGreaterThan(0);
      // A cap of 1 cannot be kept to one in every window by a bucket that holds a whole token: two at most there.
      expect(burst + perSecond * 60).toBeLessThanOrEqual(Math.max(perMinute, 2));
    }
  });
});
