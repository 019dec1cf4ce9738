import { openMigrated } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { dispatchMigrations } from '../migrations';
import { ErrorStreaks, STREAK_GAP_MS } from './error-streaks';
import { givesUp } from './give-up-after-errors';

describe('ErrorStreaks (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let streaks: ErrorStreaks;
  const t0 = new Date('2026-12-08T10:00:00.000Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_error_streaks');
    ds = await openMigrated(db.url, { poolSize: 4, migrations: dispatchMigrations });
    streaks = new ErrorStreaks(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('counts the errors of consecutive deliveries as one streak, from its first error', async () => {
    expect(await streaks.note('job-a', 4, 'EIO', t0)).toEqual({ firstAt: t0, errors: 1 });
    expect(await streaks.note('job-a', 5, 'EIO', at(60_000))).toEqual({ firstAt: t0, errors: 2 });
    expect(await streaks.note('job-a', 6, 'EIO', at(120_000))).toEqual({ firstAt: t0, errors: 3 });
    // Another job's errors are its own.
    expect(await streaks.note('job-b', 1, 'EISDIR', at(60_000))).toEqual({ firstAt: at(60_000), errors: 1 });
  });

  it('starts over when a delivery in between did not throw (a wait for capacity, a busy job, an error not counted)', async () => {
    // Deliveries 7 and 8 of job-a ended otherwise: its next error is the first of a new streak.
    expect(await streaks.note('job-a', 9, 'EIO', at(125_000))).toEqual({ firstAt: at(125_000), errors: 1 });
    expect(await streaks.note('job-a', 10, 'EIO', at(126_000))).toEqual({ firstAt: at(125_000), errors: 2 });
  });

  it('starts over after a gap longer than STREAK_GAP_MS, whatever the delivery number says', async () => {
    const later = at(126_000 + STREAK_GAP_MS + 1);
    expect(await streaks.note('job-a', 11, 'EIO again', later)).toEqual({ firstAt: later, errors: 1 });
    const [row] = await ds.query(`SELECT last_error FROM dispatch_error_streaks WHERE job_id = 'job-a'`);
    expect(row.last_error).toBe('EIO again');
  });

  it('forgets one job, and every streak no error can continue any more', async () => {
    await streaks.note('job-c', 1, 'x', at(0));
    await streaks.forget('job-c');
    await streaks.forgetEnded(at(126_000 + STREAK_GAP_MS + 1));
    const left = (await ds.query(`SELECT job_id FROM dispatch_error_streaks ORDER BY job_id`)).map((r: { job_id: string }) => r.job_id);
    expect(left).toEqual(['job-a']); // job-b's last error is over STREAK_GAP_MS older than that moment
  });
});

describe('givesUp', () => {
  const first = new Date('2026-12-08T10:00:00.000Z');
  const hour = 3_600_000;
  const after = (ms: number) => new Date(first.getTime() + ms);

  it('gives up once the streak has lasted the limit with at least three errors', () => {
    expect(givesUp({ firstAt: first, errors: 60 }, after(hour), hour)).toBe(true);
    expect(givesUp({ firstAt: first, errors: 60 }, after(hour - 1), hour)).toBe(false);
  });

  it('never on fewer than three errors, nor with the limit off (0)', () => {
    expect(givesUp({ firstAt: first, errors: 2 }, after(10 * hour), hour)).toBe(false);
    expect(givesUp({ firstAt: first, errors: 600 }, after(10 * hour), 0)).toBe(false);
  });
});
