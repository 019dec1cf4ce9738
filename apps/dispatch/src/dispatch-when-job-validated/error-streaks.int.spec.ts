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

  it('counts errors that follow each other within the gap as one streak, from its first error', async () => {
    expect(await streaks.note('job-a', 'EIO', t0)).toEqual({ firstAt: t0, errors: 1 });
    expect(await streaks.note('job-a', 'EIO', at(60_000))).toEqual({ firstAt: t0, errors: 2 });
    expect(await streaks.note('job-a', 'EIO', at(60_000 + STREAK_GAP_MS))).toEqual({ firstAt: t0, errors: 3 });
    // Another job's errors are its own.
    expect(await streaks.note('job-b', 'EISDIR', at(60_000))).toEqual({ firstAt: at(60_000), errors: 1 });
  });

  it('starts over after a gap longer than STREAK_GAP_MS: the job did something else in between', async () => {
    const later = at(60_000 + 2 * STREAK_GAP_MS + 1);
    expect(await streaks.note('job-a', 'EIO again', later)).toEqual({ firstAt: later, errors: 1 });
    const [row] = await ds.query(`SELECT last_error FROM dispatch_error_streaks WHERE job_id = 'job-a'`);
    expect(row.last_error).toBe('EIO again');
  });

  it('forgets one job, and every streak no error can continue any more', async () => {
    await streaks.note('job-c', 'x', at(0));
    await streaks.forget('job-c');
    await streaks.forgetEnded(at(60_000 + 2 * STREAK_GAP_MS + 1));
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
