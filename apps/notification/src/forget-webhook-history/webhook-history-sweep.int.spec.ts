import { openMigrated } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { NOTIFICATION_MIGRATIONS } from '../migrations';
import { forgetSettledDeliveries } from './webhook-history-sweep';

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('webhook-history');
  ds = await openMigrated(db.url, { poolSize: 2, migrations: NOTIFICATION_MIGRATIONS });
}, 30_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

async function delivery(jobId: string, status: 'pending' | 'delivered' | 'failed', daysAgo: number) {
  await ds.query(
    `INSERT INTO webhook_deliveries (job_id, version, user_id, url, event_type, body, status, attempts, updated_at)
     VALUES ($1, 1, 'u', 'https://u.example/hook', 'video.job.succeeded', '{"data":{"prompt":"secret plans"}}', $2, 1, now() - make_interval(days => $3))`,
    [jobId, status, daysAgo],
  );
  await ds.query(`INSERT INTO webhook_attempts (job_id, version, attempt, outcome) VALUES ($1, 1, 1, 'delivered')`, [jobId]);
}

const left = async () => ((await ds.query(`SELECT job_id FROM webhook_deliveries ORDER BY job_id`)) as { job_id: string }[]).map((r) => r.job_id);

it('forgets deliveries that ended longer ago than the history keeps, with their attempts, and never a pending one', async () => {
  await delivery('job_old_delivered', 'delivered', 40);
  await delivery('job_old_failed', 'failed', 31);
  await delivery('job_old_pending', 'pending', 40);
  await delivery('job_recent', 'delivered', 3);
  expect(await forgetSettledDeliveries(ds, 30)).toBe(2);
  expect(await left()).toEqual(['job_old_pending', 'job_recent']);
  expect((await ds.query(`SELECT DISTINCT job_id FROM webhook_attempts ORDER BY job_id`)).map((r: { job_id: string }) => r.job_id)).toEqual(['job_old_pending', 'job_recent']);
  expect(await forgetSettledDeliveries(ds, 30)).toBe(0);
});

it('goes in batches, the oldest first', async () => {
  for (let i = 0; i < 5; i++) await delivery(`job_batch_${i}`, 'delivered', 100 - i);
  expect(await forgetSettledDeliveries(ds, 30, 2)).toBe(2);
  expect((await left()).filter((j) => j.startsWith('job_batch_'))).toEqual(['job_batch_2', 'job_batch_3', 'job_batch_4']);
});
