import { randomUUID } from 'node:crypto';
import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { EventStore } from '../store/event-store';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { logReaderLag } from './reader-lag';

describe('logReaderLag: how far a relay or projection is behind (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let store: EventStore;
  let checkpoints: CheckpointStore;

  beforeAll(async () => {
    m = await migratedDatabase('reader_lag');
    store = new EventStore(m.dataSource);
    checkpoints = new CheckpointStore(m.dataSource);
  });
  afterAll(() => m.close());

  it('counts the events after each reader\'s checkpoint and the age of the first, none for a reader at the head', async () => {
    const append = () => store.append(`credits-${randomUUID()}`, 0, [creditsGranted()]);
    for (let i = 0; i < 2; i++) await append();
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 3; i++) await append();
    // Readable once no transaction anywhere on the server holds the horizon back (other suites run beside this one).
    let events = (await store.readAll({ transactionId: '0', globalPosition: '0' }, 100)).events;
    while (events.length < 5) {
      await new Promise((r) => setTimeout(r, 20));
      events = (await store.readAll({ transactionId: '0', globalPosition: '0' }, 100)).events;
    }
    await checkpoints.save('behind', events[0]);
    await checkpoints.save('caught-up', events[4]);

    const lag = await logReaderLag(m.dataSource, ['behind', 'caught-up', 'never-ran']);
    expect(lag.map((l) => [l.reader, l.unread])).toEqual([['behind', 4], ['caught-up', 0], ['never-ran', 5]]);
    // The first unread event (the second appended) was recorded before the pause.
    expect(lag[0].oldestSeconds).toBeGreaterThanOrEqual(1);
    expect(lag[1].oldestSeconds).toBe(0);
    expect((await logReaderLag(m.dataSource, ['never-ran'], 2))[0].unread).toBe(2);
  });
});
