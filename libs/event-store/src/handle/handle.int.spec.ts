import { randomUUID } from 'node:crypto';
import type { CreditEvent } from '@reelay/contracts';
import { EventStore } from '../store/event-store';
import { ConcurrencyError } from '../store/errors';
import { migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { handle, loadStreamState, type StreamFold } from './handle';

interface Balance {
  granted: number;
  grants: number;
}

const balance: StreamFold<Balance, CreditEvent> = {
  initialState: () => ({ granted: 0, grants: 0 }),
  evolve: (s, e) => (e.type === 'CreditsGranted' ? { granted: s.granted + e.data.amount, grants: s.grants + 1 } : s),
};

const grant = (userId: string, amount: number) => [{ type: 'CreditsGranted', data: { userId, amount, at: new Date().toISOString() } }];

describe('handle (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let storeA: EventStore;
  let storeB: EventStore;

  beforeAll(async () => {
    m = await migratedDatabase('handle', 4);
    storeA = new EventStore(m.dataSource);
    storeB = new EventStore(await m.extraDataSource(4));
  });
  afterAll(() => m.close());

  it('folds the stream, appends the decision and returns the state after it', async () => {
    const id = `credits-${randomUUID()}`;
    const first = await handle(storeA, id, balance, () => grant('u', 5));
    expect(first).toMatchObject({ state: { granted: 5, grants: 1 }, version: 1 });
    expect(first.events).toHaveLength(1);

    const second = await handle(storeA, id, balance, (s) => (s.granted >= 5 ? grant('u', 2) : []));
    expect(second).toMatchObject({ state: { granted: 7, grants: 2 }, version: 2 });
  });

  it('appends nothing when decide returns no events', async () => {
    const id = `credits-${randomUUID()}`;
    await handle(storeA, id, balance, () => grant('u', 3));
    const result = await handle(storeA, id, balance, () => []);
    expect(result).toEqual({ state: { granted: 3, grants: 1 }, events: [], version: 1 });
    expect(await storeA.streamVersion(id)).toBe(1);
  });

  it('lets concurrent handlers on one stream all succeed by re-reading and re-deciding', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `credits-${randomUUID()}`;
      const seenStates: Balance[] = [];
      const decide = (s: Balance) => {
        seenStates.push(s);
        return grant('u', 1);
      };
      const results = await Promise.all([
        handle(storeA, id, balance, decide, { maxRetries: 10 }),
        handle(storeB, id, balance, decide, { maxRetries: 10 }),
        handle(storeA, id, balance, decide, { maxRetries: 10 }),
        handle(storeB, id, balance, decide, { maxRetries: 10 }),
      ]);
      expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3, 4]);
      for (const r of results) expect(r.state).toEqual({ granted: r.version, grants: r.version });
      const events = await storeA.readStream(id);
      expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
    }
  });

  it('gives up with ConcurrencyError after maxRetries', async () => {
    const id = `credits-${randomUUID()}`;
    await expect(
      handle(storeA, id, balance, async () => {
        // Someone else always gets in between our read and our append.
        await storeB.append(id, 'any', grant('intruder', 1));
        return grant('u', 1);
      }, { maxRetries: 2 }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await storeA.streamVersion(id)).toBe(3);
  });

  describe('the folded-state cache', () => {
    it('reads only the events after the state this process already folded', async () => {
      const id = `credits-${randomUUID()}`;
      const store = new EventStore(m.dataSource);
      await handle(store, id, balance, () => grant('u', 1));
      await storeB.append(id, 1, grant('other', 2)); // another process writes
      const reads = jest.spyOn(store, 'readStream');
      const loaded = await loadStreamState(store, id, balance);
      expect(loaded).toEqual({ state: { granted: 3, grants: 2 }, version: 2 });
      expect(reads).toHaveBeenCalledTimes(1);
      expect(reads.mock.calls[0][1]).toBe(2);
    });

    it('decides without a read when it holds the triggering version, and still sees a newer write through the version check', async () => {
      const id = `credits-${randomUUID()}`;
      const store = new EventStore(m.dataSource);
      await handle(store, id, balance, () => grant('u', 1));
      const reads = jest.spyOn(store, 'readStream');
      const noop = await handle(store, id, balance, () => [], { atLeastVersion: 1 });
      expect(noop.version).toBe(1);
      expect(reads).not.toHaveBeenCalled();

      await storeB.append(id, 1, grant('other', 10)); // the cache is now behind
      const seen: Balance[] = [];
      const result = await handle(store, id, balance, (s) => {
        seen.push(s);
        return s.granted >= 11 ? [] : grant('u', 1);
      }, { atLeastVersion: 1 });
      // First decided on the cached state, conflicted, re-read the tail and saw the other write.
      expect(seen).toEqual([{ granted: 1, grants: 1 }, { granted: 11, grants: 2 }]);
      expect(result).toMatchObject({ version: 2, events: [] });
      expect(await storeA.streamVersion(id)).toBe(2);
    });

    it('never mixes states of two folds of one stream', async () => {
      const id = `credits-${randomUUID()}`;
      const store = new EventStore(m.dataSource);
      const count: StreamFold<number, CreditEvent> = { initialState: 0, evolve: (n) => n + 1 };
      await handle(store, id, balance, () => grant('u', 4));
      expect(await loadStreamState(store, id, count)).toEqual({ state: 1, version: 1 });
      expect(await loadStreamState(store, id, balance)).toEqual({ state: { granted: 4, grants: 1 }, version: 1 });
    });
  });
});

