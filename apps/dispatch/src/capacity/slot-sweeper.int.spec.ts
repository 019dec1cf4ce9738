import { jobStreamId } from '@reelay/contracts';
import { EventStore, openMigrated } from '@reelay/event-store';
import { newJobId } from '@reelay/job-domain';
import { createLogger } from '@reelay/service-kit';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { dispatchMigrations } from '../migrations';
import { ProviderSlots } from './provider-slots';
import { SlotSweeper } from './slot-sweeper';

describe('SlotSweeper (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_sweep');
    ds = await openMigrated(db.url, { poolSize: 4, migrations: dispatchMigrations });
    store = new EventStore(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  async function job(ended: boolean): Promise<string> {
    const jobId = newJobId();
    const at = new Date().toISOString();
    const data = {
      jobId, userId: 'u', model: 'gen4.5', provider: 'runway', prompt: 'p', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5, resolution: null,
      seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 5, requestHash: 'h', at,
    };
    await store.append(jobStreamId(jobId), 0, [{ type: 'JobSubmitted', data }, ...(ended ? [{ type: 'JobCanceled', data: { at } }] : [])]);
    return jobId;
  }

  it('frees the slots of finished or unknown jobs a page per sweep, going on after the last page, so none waits behind long jobs for ever', async () => {
    const slots = new ProviderSlots(ds, () => 100);
    // Held in this order: running, finished, running, finished, running, and one whose job is not in the log.
    const jobs = [await job(false), await job(true), await job(false), await job(true), await job(false), newJobId()];
    for (const id of jobs) {
      expect((await slots.acquire(id, 'runway')).acquired).toBe(true);
      await new Promise((r) => setTimeout(r, 2)); // distinct acquired_at
    }
    const sweeper = new SlotSweeper({ slots, store, logger: createLogger('dispatch', 'silent') }, { minAgeMs: 0, pageSize: 2 });
    const freed = [];
    for (let i = 0; i < 4; i++) freed.push(await sweeper.sweep());
    expect(freed).toEqual([1, 1, 1, 0]);
    const held = await ds.query(`SELECT job_id FROM provider_slots ORDER BY acquired_at`);
    expect(held.map((r: { job_id: string }) => r.job_id)).toEqual([jobs[0], jobs[2], jobs[4]]);
  });

  it('keeps the slot of a canceled job whose provider task may still run, until its end is recorded or the hold has passed', async () => {
    const slots = new ProviderSlots(ds, () => 100);
    const at = new Date().toISOString();
    const canceledWhileRunning = await job(false);
    await store.append(jobStreamId(canceledWhileRunning), 1, [
      { type: 'JobValidationStarted', data: { at } },
      { type: 'JobValidated', data: { at, referenceImage: null } },
      { type: 'JobSubmissionIntended', data: { provider: 'runway', attempt: 1, submissionKey: 'k', at } },
      { type: 'JobProviderAccepted', data: { provider: 'runway', providerTaskId: 't1', at } },
      { type: 'JobCanceled', data: { at } },
    ]);
    expect((await slots.acquire(canceledWhileRunning, 'runway')).acquired).toBe(true);
    const held = async () => (await ds.query(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [canceledWhileRunning])).length === 1;
    let clock = Date.parse(at); // the holds count from the events' time
    const sweeper = new SlotSweeper({ slots, store, logger: createLogger('dispatch', 'silent') }, { minAgeMs: 0, trackedTaskHoldMs: 60_000, untrackedTaskHoldMs: 30_000, now: () => clock });
    await sweeper.sweep();
    expect(await held()).toBe(true);
    clock += 31_000; // past the hold of a task nothing follows: polling follows this one
    await sweeper.sweep();
    expect(await held()).toBe(true);
    clock += 30_000;
    await sweeper.sweep();
    expect(await held()).toBe(false);

    // Recorded end: freed at the next sweep, with no hold to wait out.
    expect((await slots.acquire(canceledWhileRunning, 'runway')).acquired).toBe(true);
    clock = Date.now();
    await store.append(jobStreamId(canceledWhileRunning), 6, [{ type: 'JobProviderTaskEnded', data: { reason: 'finished_at_provider', at } }]);
    await sweeper.sweep();
    expect(await held()).toBe(false);
  });

  it('keeps the slot of a job canceled or failed while its submit was unanswered (a task may exist, which nothing follows) until the shorter hold has passed, but not that of one canceled before any submit or failed on a refusal', async () => {
    const slots = new ProviderSlots(ds, () => 100);
    const at = new Date().toISOString();
    const validated = [
      { type: 'JobValidationStarted', data: { at } },
      { type: 'JobValidated', data: { at, referenceImage: null } },
    ];
    const duringSubmit = await job(false);
    await store.append(jobStreamId(duringSubmit), 1, [...validated, { type: 'JobSubmissionIntended', data: { provider: 'runway', attempt: 1, submissionKey: 'k', at } }, { type: 'JobCanceled', data: { at } }]);
    const beforeSubmit = await job(false);
    await store.append(jobStreamId(beforeSubmit), 1, [...validated, { type: 'JobCanceled', data: { at } }]);
    // Failed with the submit's answer lost at a provider that cannot be asked (a task may run), and failed on a refusal.
    const intent = { type: 'JobSubmissionIntended', data: { provider: 'runway', attempt: 1, submissionKey: 'k', at } };
    const failedUnanswered = await job(false);
    await store.append(jobStreamId(failedUnanswered), 1, [...validated, intent, { type: 'JobFailed', data: { errorCode: 'unknown_provider_error', message: null, detail: 'd', providerTaskMayExist: true, at } }]);
    const failedRefused = await job(false);
    await store.append(jobStreamId(failedRefused), 1, [...validated, intent, { type: 'JobFailed', data: { errorCode: 'moderation_rejected', message: null, detail: 'd', at } }]);
    const all = [duringSubmit, beforeSubmit, failedUnanswered, failedRefused];
    for (const id of all) expect((await slots.acquire(id, 'runway')).acquired).toBe(true);
    const held = async (id: string) => (await ds.query(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [id])).length === 1;
    let clock = Date.parse(at); // the holds count from the events' time
    const sweeper = new SlotSweeper({ slots, store, logger: createLogger('dispatch', 'silent') }, { minAgeMs: 0, trackedTaskHoldMs: 60_000, untrackedTaskHoldMs: 30_000, now: () => clock });
    await sweeper.sweep();
    expect(await Promise.all(all.map(held))).toEqual([true, false, true, false]);
    // Nothing follows these tasks: they are taken to be over after the shorter hold.
    clock += 29_000;
    await sweeper.sweep();
    expect(await Promise.all(all.map(held))).toEqual([true, false, true, false]);
    clock += 2_000;
    await sweeper.sweep();
    expect(await Promise.all(all.map(held))).toEqual([false, false, false, false]);
  });
});
