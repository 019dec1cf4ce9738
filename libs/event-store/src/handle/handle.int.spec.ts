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

  it('with lockAfterConflicts, decides once more under the stream\'s lock when every optimistic try lost, where no writer can get in between', async () => {
    const id = `credits-${randomUUID()}`;
    let calls = 0;
    const result = await handle(storeA, id, balance, async () => {
      // Someone else gets in between on every optimistic try (3 with maxRetries 2); under the lock it could not.
      if (++calls <= 3) await storeB.append(id, 'any', grant('intruder', 1));
      return grant('u', 10);
    }, { maxRetries: 2, lockAfterConflicts: true });
    expect(calls).toBe(4);
    expect(result).toMatchObject({ state: { granted: 13, grants: 4 }, version: 4 });
    expect(await storeA.streamVersion(id)).toBe(4);
    // The committed state is what this process folds next, without a read.
    expect(storeA.states.get(balance, id)).toEqual({ state: { granted: 13, grants: 4 }, version: 4 });
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

  describe('snapshots of long streams', () => {
    const snapshotted: StreamFold<Balance, CreditEvent> = { ...balance, snapshot: { name: 'balance.v1', every: 3 } };
    const saved = async (id: string, fold = 'balance.v1') =>
      (await m.dataSource.query(`SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND fold = $2`, [id, fold]))[0];

    it('saves the state each time the stream passes a multiple of `every`, and a new process folds only the events after it', async () => {
      const id = `credits-${randomUUID()}`;
      const writer = new EventStore(m.dataSource);
      for (let i = 1; i <= 7; i++) await handle(writer, id, snapshotted, () => grant('u', i));
      await writer.snapshots.settled();
      expect(await saved(id)).toEqual({ version: 6, state: { granted: 21, grants: 6 } });

      const fresh = new EventStore(m.dataSource);
      const reads = jest.spyOn(fresh, 'readStream');
      expect(await loadStreamState(fresh, id, snapshotted)).toEqual({ state: { granted: 28, grants: 7 }, version: 7 });
      expect(reads.mock.calls.map((c) => c[1])).toEqual([7]);
      expect(await loadStreamState(fresh, id, balance)).toEqual({ state: { granted: 28, grants: 7 }, version: 7 });
    });

    it('saves what a process folded from a long tail, and never replaces a newer snapshot with an older one', async () => {
      const id = `credits-${randomUUID()}`;
      for (let i = 1; i <= 4; i++) await storeB.append(id, 'any', grant('u', 1));
      const first = new EventStore(m.dataSource);
      await loadStreamState(first, id, snapshotted);
      await first.snapshots.settled();
      expect(await saved(id)).toEqual({ version: 4, state: { granted: 4, grants: 4 } });

      first.snapshots.save(id, 'balance.v1', 3, { granted: 3, grants: 3 });
      await first.snapshots.settled();
      expect((await saved(id)).version).toBe(4);
    });

    it('ignores a snapshot saved under another name (a changed fold), and saves its own beside it', async () => {
      const id = `credits-${randomUUID()}`;
      for (let i = 1; i <= 3; i++) await storeB.append(id, 'any', grant('u', 2));
      await m.dataSource.query(`INSERT INTO stream_snapshots (stream_id, fold, version, state) VALUES ($1, 'balance.v0', 3, '{"granted": 999}')`, [id]);
      const store = new EventStore(m.dataSource);
      expect(await loadStreamState(store, id, snapshotted)).toEqual({ state: { granted: 6, grants: 3 }, version: 3 });
      await store.snapshots.settled();
      expect(await saved(id)).toEqual({ version: 3, state: { granted: 6, grants: 3 } });
    });

    it('loads and folds as before when a save fails, and counts the failure', async () => {
      const id = `credits-${randomUUID()}`;
      const store = new EventStore(m.dataSource);
      const query = m.dataSource.query.bind(m.dataSource);
      const failing = jest.spyOn(m.dataSource, 'query').mockImplementation((sql, ...rest) =>
        sql.includes('INSERT INTO stream_snapshots') ? Promise.reject(new Error('disk full')) : query(sql, ...rest),
      );
      try {
        for (let i = 1; i <= 3; i++) await handle(store, id, snapshotted, () => grant('u', 1));
        await store.snapshots.settled();
      } finally {
        failing.mockRestore();
      }
      expect(store.snapshots.failedSaves).toBe(1);
      expect(await saved(id)).toBeUndefined();
      expect(await loadStreamState(new EventStore(m.dataSource), id, snapshotted)).toEqual({ state: { granted: 3, grants: 3 }, version: 3 });
    });
  });
});

