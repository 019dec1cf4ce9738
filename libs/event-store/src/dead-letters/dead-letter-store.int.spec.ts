import { randomUUID } from 'node:crypto';
import { migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { DeadLetterStore } from './dead-letter-store';

describe('DeadLetterStore (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let letters: DeadLetterStore;

  beforeAll(async () => {
    m = await migratedDatabase('dead_letters', 2);
    letters = new DeadLetterStore(m.dataSource);
  });
  afterAll(() => m.close());

  it('records, lists, gets and marks letters replayed', async () => {
    const eventId = randomUUID();
    const a = await letters.record({ consumer: 'dispatch', subject: 'reelay.events.JobValidated', eventId, payload: { n: 1 }, error: 'boom', deliveries: 5 });
    const b = await letters.record({ consumer: 'notify', subject: 'reelay.events.JobSucceeded', payload: 'raw', error: 'bad', deliveries: 3 });
    const c = await letters.record({ consumer: 'dispatch', subject: 'reelay.events.JobFailed', eventId: null, payload: null, error: 'x', deliveries: 1 });

    expect(a).toMatchObject({ consumer: 'dispatch', eventId, payload: { n: 1 }, error: 'boom', deliveries: 5, replayedAt: null });
    expect(b.eventId).toBeNull();
    expect(await letters.get(a.id)).toEqual(a);
    expect(await letters.get('999999')).toBeNull();
    expect((await letters.list()).map((l) => l.id)).toEqual([a.id, b.id, c.id]);
    expect((await letters.list({ consumer: 'dispatch' })).map((l) => l.id)).toEqual([a.id, c.id]);

    expect(await letters.markReplayed(a.id)).toBe(true);
    expect(await letters.markReplayed(a.id)).toBe(false);
    expect((await letters.get(a.id))?.replayedAt).toEqual(expect.any(String));
    expect((await letters.list({ consumer: 'dispatch' })).map((l) => l.id)).toEqual([c.id]);
    expect((await letters.list({ consumer: 'dispatch', includeReplayed: true })).map((l) => l.id)).toEqual([a.id, c.id]);
  });

  it('given the same message dead-lettered again by the same consumer (it came back after a crash), then it joins the open letter; once replayed, a new one is made', async () => {
    const eventId = randomUUID();
    const letter = { consumer: 'polling-stop', subject: 'reelay.events.job.JobSucceeded', eventId, payload: { n: 1 }, deliveries: 5 };
    const first = await letters.record({ ...letter, error: 'boom' });
    const again = await letters.record({ ...letter, deliveries: 6, error: 'boom again' });
    expect(again).toMatchObject({ id: first.id, deliveries: 6, error: 'boom again' });
    expect((await letters.list({ consumer: 'polling-stop' })).map((l) => l.id)).toEqual([first.id]);
    // Another consumer's letter for the same event is its own.
    expect((await letters.record({ ...letter, consumer: 'notification-jobs', error: 'x' })).id).not.toBe(first.id);
    expect(await letters.markReplayed(first.id)).toBe(true);
    expect((await letters.record({ ...letter, error: 'after the replay' })).id).not.toBe(first.id);
  });

  it('given a replay under way, when the event fails again and joins the letter before the replay ends, then the replay does not mark it replayed', async () => {
    const letter = { consumer: 'dispatch-submit', subject: 'reelay.events.job.JobValidated', eventId: randomUUID(), payload: { n: 1 }, deliveries: 5 };
    const open = await letters.record({ ...letter, error: 'boom' });
    const token = (await letters.beginReplay(open.id))!;
    expect(token).toEqual(expect.any(String));
    await letters.record({ ...letter, deliveries: 1, error: 'failed again when replayed' });
    expect(await letters.markReplayed(open.id, token)).toBe(false);
    expect(await letters.get(open.id)).toMatchObject({ replayedAt: null, error: 'failed again when replayed' });

    // A replay with nothing failing in between marks it; a replayed letter cannot be begun again.
    const again = (await letters.beginReplay(open.id))!;
    expect(await letters.markReplayed(open.id, again)).toBe(true);
    expect(await letters.beginReplay(open.id)).toBeNull();
    expect(await letters.beginReplay('not-an-id')).toBeNull();
  });
});
