import { randomUUID } from 'node:crypto';
import { MalformedEventError, RecordedEvent, UnknownEventError } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { inTransaction, type SqlExecutor } from '../sql/sql-executor';
import { ConcurrencyError, DuplicateEventError } from './errors';
import { EventStore } from './event-store';
import { lockStreams } from './stream-lock';

describe('EventStore (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let store: EventStore;
  let otherStore: EventStore;
  let other: DataSource;

  beforeAll(async () => {
    m = await migratedDatabase('event_store', 4);
    store = new EventStore(m.dataSource);
    other = await m.extraDataSource(4);
    otherStore = new EventStore(other);
  });
  afterAll(() => m.close());

  const stream = () => `credits-${randomUUID()}`;
  /**
   * A table's scans counted by this backend and not yet flushed to the statistics. PostgreSQL 15
   * flushes them at most once a second, so until then they include the scans of the pooled
   * connection's earlier transactions: compare two readings, never one.
   */
  const tableScans = async (tx: SqlExecutor, table: string) => {
    const [row] = (await tx.query(`SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = $1`, [table])) as { seq_scan: string; idx_scan: string }[];
    return { seq: Number(row?.seq_scan ?? 0), idx: Number(row?.idx_scan ?? 0) };
  };
  const countEvents = async (streamId: string) =>
    Number((await m.dataSource.query(`SELECT count(*) AS n FROM events WHERE stream_id = $1`, [streamId]))[0].n);

  it('appends and reads back events that match the RecordedEvent contract', async () => {
    const id = stream();
    const first = await store.append(id, 0, [creditsGranted('u1', 5), { ...creditsGranted('u1', 7), metadata: { correlationId: 'c-1' } }]);
    expect(first.nextExpectedVersion).toBe(2);
    expect(first.events.map((e) => e.streamVersion)).toEqual([1, 2]);

    const second = await store.append(id, 2, [creditsGranted('u1', 1)]);
    expect(second.nextExpectedVersion).toBe(3);

    const read = await store.readStream(id);
    expect(read.map((e) => RecordedEvent.parse(e))).toEqual(read);
    expect(read).toEqual([...first.events, ...second.events]);
    expect(read[1].metadata).toEqual({ correlationId: 'c-1' });
    expect(read[0].data).toMatchObject({ userId: 'u1', amount: 5 });
    expect(await store.readStream(id, 3)).toEqual(second.events);
    expect(await store.streamVersion(id)).toBe(3);
    expect(await store.streamVersion(stream())).toBe(0);
    expect(BigInt(read[2].globalPosition)).toBeGreaterThan(BigInt(read[1].globalPosition));
  });

  it('reads several streams in one call, each in version order, as readStream would', async () => {
    const [a, b, missing] = [stream(), stream(), stream()];
    await store.append(a, 0, [creditsGranted('ua', 1), creditsGranted('ua', 2)]);
    await store.append(b, 0, [creditsGranted('ub', 3)]);
    await store.append(a, 2, [creditsGranted('ua', 4)]);
    const read = await store.readStreams([a, b, missing, a]);
    expect([...read.keys()].sort()).toEqual([a, b].sort());
    expect(read.get(a)).toEqual(await store.readStream(a));
    expect(read.get(b)).toEqual(await store.readStream(b));
    expect((await store.readStreams([])).size).toBe(0);
  });

  it("accepts 'any' as expected version on new and existing streams", async () => {
    const id = stream();
    expect((await store.append(id, 'any', [creditsGranted()])).nextExpectedVersion).toBe(1);
    expect((await store.append(id, 'any', [creditsGranted(), creditsGranted()])).nextExpectedVersion).toBe(3);
  });

  it('rejects a stale expected version with ConcurrencyError and writes nothing', async () => {
    const id = stream();
    await store.append(id, 0, [creditsGranted(), creditsGranted()]);

    await expect(store.append(id, 1, [creditsGranted()])).rejects.toMatchObject({ name: 'ConcurrencyError', streamId: id, expected: 1, actual: 2 });
    await expect(store.append(id, 0, [creditsGranted()])).rejects.toBeInstanceOf(ConcurrencyError);
    const missing = stream();
    await expect(store.append(missing, 3, [creditsGranted()])).rejects.toMatchObject({ expected: 3, actual: 0 });

    expect(await countEvents(id)).toBe(2);
    expect(await store.streamVersion(id)).toBe(2);
    expect(await countEvents(missing)).toBe(0);
  });

  it('lets exactly one of two concurrent appends at the same expected version win (separate connections)', async () => {
    for (let round = 0; round < 40; round++) {
      const id = stream();
      // Even rounds race to create the stream, odd rounds race to extend it.
      const expected = round % 2 === 0 ? 0 : 1;
      if (expected === 1) await store.append(id, 0, [creditsGranted()]);

      const outcomes = await Promise.allSettled([
        store.append(id, expected, [creditsGranted('a', 1), creditsGranted('a', 2)]),
        otherStore.append(id, expected, [creditsGranted('b', 1), creditsGranted('b', 2)]),
      ]);

      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(ConcurrencyError);

      const events = await store.readStream(id);
      expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: expected + 2 }, (_, i) => i + 1));
      const writers = new Set(events.slice(expected).map((e) => (e.data as { userId: string }).userId));
      expect(writers.size).toBe(1);
    }
  });

  it('rejects a malformed event naming it, and writes nothing', async () => {
    const id = stream();
    const bad = { type: 'CreditsGranted', data: { userId: 'u', amount: -3, at: new Date().toISOString() } };
    const err = await store.append(id, 0, [creditsGranted(), bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedEventError);
    expect((err as Error).message).toContain('CreditsGranted');
    expect(await countEvents(id)).toBe(0);
    expect(await store.streamVersion(id)).toBe(0);
  });

  it('rejects an unknown event type naming it, and writes nothing', async () => {
    const id = stream();
    const err = await store.append(id, 0, [creditsGranted(), { type: 'CreditsStolen', data: {} }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownEventError);
    expect((err as Error).message).toContain('CreditsStolen');
    expect(await countEvents(id)).toBe(0);
  });

  it('rejects invalid metadata', async () => {
    const id = stream();
    await expect(store.append(id, 0, [{ ...creditsGranted(), metadata: { nonsense: 1 } as never }])).rejects.toThrow(/CreditsGranted/);
    expect(await countEvents(id)).toBe(0);
  });

  it('appendMany writes several streams in one transaction', async () => {
    const [a, b, c] = [stream(), stream(), stream()];
    await store.append(b, 0, [creditsGranted()]);
    const results = await store.appendMany([
      { streamId: a, expectedVersion: 0, events: [creditsGranted(), creditsGranted()] },
      { streamId: b, expectedVersion: 1, events: [creditsGranted()] },
      { streamId: c, expectedVersion: 'any', events: [creditsGranted()] },
    ]);
    expect(results.map((r) => r.nextExpectedVersion)).toEqual([2, 2, 1]);
    const all = results.flatMap((r) => r.events);
    expect(new Set(all.map((e) => e.transactionId)).size).toBe(1);
    expect(all.map((e) => e.streamId)).toEqual([a, a, b, c]);
  });

  it('appendMany is all-or-nothing: one stale batch and no batch is written', async () => {
    const [a, b] = [stream(), stream()];
    await store.append(b, 0, [creditsGranted(), creditsGranted()]);
    await expect(
      store.appendMany([
        { streamId: a, expectedVersion: 0, events: [creditsGranted()] },
        { streamId: b, expectedVersion: 1, events: [creditsGranted()] },
      ]),
    ).rejects.toMatchObject({ name: 'ConcurrencyError', streamId: b, actual: 2 });
    expect(await countEvents(a)).toBe(0);
    expect(await store.streamVersion(a)).toBe(0);
    expect(await countEvents(b)).toBe(2);
  });

  it('appendMany is all-or-nothing: one malformed event and no batch is written', async () => {
    const [a, b] = [stream(), stream()];
    await expect(
      store.appendMany([
        { streamId: a, expectedVersion: 0, events: [creditsGranted()] },
        { streamId: b, expectedVersion: 0, events: [{ type: 'CreditsHeld', data: { userId: 'u' } }] },
      ]),
    ).rejects.toThrow(/CreditsHeld/);
    expect(await countEvents(a)).toBe(0);
    expect(await countEvents(b)).toBe(0);
  });

  it('refuses a duplicate event id and writes nothing', async () => {
    const eventId = randomUUID();
    await store.append(stream(), 0, [{ ...creditsGranted(), eventId }]);
    const id = stream();
    await expect(store.append(id, 0, [creditsGranted(), { ...creditsGranted(), eventId }])).rejects.toBeInstanceOf(DuplicateEventError);
    expect(await countEvents(id)).toBe(0);
  });

  describe('group commit: appends and reads made at the same time share one statement', () => {
    const statements = (s: EventStore) => {
      const spy = jest.spyOn(s.dataSource, 'query');
      return { count: (re: RegExp) => spy.mock.calls.filter(([sql]) => re.test(String(sql))).length, restore: () => spy.mockRestore() };
    };

    it('writes concurrent appends in one statement, each answered with its own versions and positions', async () => {
      const ids = Array.from({ length: 6 }, stream);
      const spy = statements(store);
      try {
        const results = await Promise.all(ids.map((id, i) => store.append(id, 0, Array.from({ length: i + 1 }, () => creditsGranted('g', i + 1)))));
        expect(spy.count(/reelay_append/)).toBe(1);
        results.forEach((r, i) => {
          expect(r.nextExpectedVersion).toBe(i + 1);
          expect(r.events.map((e) => e.streamId)).toEqual(Array(i + 1).fill(ids[i]));
        });
        for (const [i, id] of ids.entries()) expect(await store.readStream(id)).toEqual(results[i].events);
      } finally {
        spy.restore();
      }
    });

    it('fails only the stale append of a group commit, and writes the others', async () => {
      const [a, b, c] = [stream(), stream(), stream()];
      await store.append(b, 0, [creditsGranted()]);
      const spy = statements(store);
      try {
        const [ra, rb, rc] = await Promise.allSettled([
          store.append(a, 0, [creditsGranted()]),
          store.append(b, 0, [creditsGranted()]), // b is at version 1
          store.append(c, 0, [creditsGranted()]),
        ]);
        expect(spy.count(/reelay_append/)).toBe(1);
        expect(ra.status).toBe('fulfilled');
        expect(rb).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
        expect(rc.status).toBe('fulfilled');
      } finally {
        spy.restore();
      }
      expect([await countEvents(a), await countEvents(b), await countEvents(c)]).toEqual([1, 1, 1]);
    });

    it('writes a group commit of new, existing and several-stream appends in group order, each from its own stream version', async () => {
      const [x, y, fresh, pair, stale] = [stream(), stream(), stream(), stream(), stream()];
      await store.appendMany([
        { streamId: x, expectedVersion: 0, events: [creditsGranted('x', 1), creditsGranted('x', 2)] },
        { streamId: y, expectedVersion: 0, events: [creditsGranted('y', 1)] },
        { streamId: stale, expectedVersion: 0, events: [creditsGranted('s', 1)] },
      ]);
      const spy = statements(store);
      let results: PromiseSettledResult<unknown>[];
      try {
        results = await Promise.allSettled([
          store.appendMany([
            { streamId: x, expectedVersion: 2, events: [creditsGranted('x', 3), creditsGranted('x', 4)] },
            { streamId: pair, expectedVersion: 0, events: [creditsGranted('p', 1)] },
          ]),
          store.append(stale, 0, [creditsGranted('s', 2)]), // stale is at version 1
          store.append(y, 'any', [creditsGranted('y', 2)]),
          store.append(fresh, 0, [creditsGranted('f', 1), creditsGranted('f', 2)]),
        ]);
        expect(spy.count(/reelay_append/)).toBe(1);
      } finally {
        spy.restore();
      }
      const [many, rStale, rY, rFresh] = results;
      expect(many).toMatchObject({ status: 'fulfilled', value: [{ nextExpectedVersion: 4 }, { nextExpectedVersion: 1 }] });
      expect(rStale).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      expect(rY).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 2 } });
      expect(rFresh).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 2 } });
      const amounts = async (id: string) => (await store.readStream(id)).map((e) => [e.streamVersion, (e.data as { amount: number }).amount]);
      expect(await amounts(x)).toEqual([[1, 1], [2, 2], [3, 3], [4, 4]]);
      expect(await amounts(stale)).toEqual([[1, 1]]);
      // Each append is answered with its own recorded events, and the log holds them in group order.
      const written = [...(many as PromiseFulfilledResult<{ events: RecordedEvent[] }[]>).value.flatMap((r) => r.events), ...[rY, rFresh].flatMap((r) => (r as PromiseFulfilledResult<{ events: RecordedEvent[] }>).value.events)];
      expect(written.map((e) => e.streamId)).toEqual([x, x, pair, y, fresh, fresh]);
      const positions = written.map((e) => BigInt(e.globalPosition));
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      for (const id of [x, pair, y, fresh]) {
        const stored = await store.readStream(id);
        expect(written.filter((e) => e.streamId === id)).toEqual(stored.slice(stored.length - written.filter((e) => e.streamId === id).length));
      }
    });

    it('writes two appends to one stream made at once as two appends in a row, one group commit apart', async () => {
      const id = stream();
      const spy = statements(store);
      const [first, stale, any] = await Promise.allSettled([
        store.append(id, 0, [creditsGranted('s', 1)]),
        store.append(id, 0, [creditsGranted('s', 2)]),
        store.append(id, 'any', [creditsGranted('s', 3)]),
      ]);
      const commits = spy.count(/reelay_append/);
      spy.restore();
      expect(commits).toBe(3);
      expect(first).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 1 } });
      expect(stale).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      expect(any).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 2 } });
      expect((await store.readStream(id)).map((e) => (e.data as { amount: number }).amount)).toEqual([1, 3]);
    });

    it('reelay_append_groups called with one stream in two groups runs them as two appends in a row', async () => {
      const id = stream();
      const group = (expected: number, amount: number) => ({
        streams: [{ stream_id: id, expected }],
        events: [{ ord: 0, stream_id: id, idx: 0, event_id: randomUUID(), type: 'CreditsGranted', schema_version: 1, data: { userId: 'u', amount, at: new Date().toISOString() }, metadata: {} }],
      });
      const other = stream();
      const [{ r }] = await m.dataSource.query(`SELECT reelay_append_groups($1::jsonb) AS r`, [
        JSON.stringify([group(0, 1), group(0, 2), { ...group(-1, 3) }, { streams: [{ stream_id: other, expected: 0 }], events: [{ ...group(0, 4).events[0], stream_id: other }] }]),
      ]);
      expect(r).toMatchObject([
        { base: { [id]: 0 }, events: [{ event_id: expect.any(String) }] },
        { conflict: { stream_id: id, expected: 0, actual: 1 } },
        { base: { [id]: 1 }, events: [{ event_id: expect.any(String) }] },
        { base: { [other]: 0 }, events: [{ event_id: expect.any(String) }] },
      ]);
      expect((await store.readStream(id)).map((e) => [e.streamVersion, (e.data as { amount: number }).amount])).toEqual([[1, 1], [2, 3]]);
    });

    it('fails only the append with a duplicate event id; the rest of its group commit is written', async () => {
      const eventId = randomUUID();
      await store.append(stream(), 0, [{ ...creditsGranted(), eventId }]);
      const [ok, dup] = [stream(), stream()];
      const [rOk, rDup] = await Promise.allSettled([store.append(ok, 0, [creditsGranted()]), store.append(dup, 0, [{ ...creditsGranted(), eventId }])]);
      expect(rOk.status).toBe('fulfilled');
      expect(rDup).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateEventError) });
      expect([await countEvents(ok), await countEvents(dup)]).toEqual([1, 0]);
    });

    it('reads the tails of concurrently read streams in one statement, each from its own version', async () => {
      const [a, b, empty] = [stream(), stream(), stream()];
      await store.appendMany([
        { streamId: a, expectedVersion: 0, events: [creditsGranted('a', 1), creditsGranted('a', 2), creditsGranted('a', 3)] },
        { streamId: b, expectedVersion: 0, events: [creditsGranted('b', 1)] },
      ]);
      const spy = statements(store);
      try {
        const [ta, tb, te, ta1] = await Promise.all([store.readStream(a, 2), store.readStream(b), store.readStream(empty), store.readStream(a)]);
        expect(spy.count(/\bevents\b/)).toBe(1);
        expect(ta.map((e) => e.streamVersion)).toEqual([2, 3]);
        expect(tb.map((e) => e.streamId)).toEqual([b]);
        expect(te).toEqual([]);
        expect(ta1.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
        expect(ta1.slice(1)).toEqual(ta);
      } finally {
        spy.restore();
      }
    });

    it('a transaction that locks two streams with lockStreams and then appends does not deadlock with a group commit on both', async () => {
      // Name the streams so that the one appended to later has the lower lock key: the order that
      // deadlocks if the transaction locks only the first stream up front.
      let [first, later] = [stream(), stream()];
      const key = async (id: string) => BigInt((await m.dataSource.query(`SELECT hashtextextended($1, 0)::text AS k`, [id]))[0].k);
      if ((await key(later)) > (await key(first))) [first, later] = [later, first];
      const held = inTransaction(other, async (tx) => {
        await lockStreams(tx, [first, later]);
        await new Promise((r) => setTimeout(r, 150)); // the group commit below queues on the locks meanwhile
        await otherStore.append(later, 'any', [creditsGranted()], { tx });
      });
      await new Promise((r) => setTimeout(r, 50));
      const grouped = store.appendMany([
        { streamId: first, expectedVersion: 'any', events: [creditsGranted()] },
        { streamId: later, expectedVersion: 'any', events: [creditsGranted()] },
      ]);
      await expect(Promise.all([held, grouped])).resolves.toBeDefined();
      expect([await countEvents(first), await countEvents(later)]).toEqual([1, 2]);
    });

    it('lets concurrent group commits from two processes on the same streams finish without deadlock', async () => {
      const ids = Array.from({ length: 8 }, stream);
      const writes = (s: EventStore, order: string[]) => order.map((id) => s.append(id, 'any', [creditsGranted()]));
      await Promise.all([...writes(store, ids), ...writes(otherStore, [...ids].reverse()), ...writes(store, ids), ...writes(otherStore, ids)]);
      for (const id of ids) expect((await store.readStream(id)).map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
    });
  });

  it('an append reads and updates its streams by key, however many streams the table holds and whatever its statistics', async () => {
    // One connection, so the plan its session caches for reelay_append while the table is small is
    // the one used after it grew: 3,000 streams more, not analyzed.
    const single = await m.extraDataSource(1);
    const singleStore = new EventStore(single);
    const [existing, fresh] = [stream(), stream()];
    await singleStore.append(existing, 0, [creditsGranted('u1', 1)]);
    await single.query(`INSERT INTO streams (stream_id, version) SELECT 'credits-bulk-' || g, 1 FROM generate_series(1, 3000) g`);
    const scans = await inTransaction(single, async (tx) => {
      const before = await tableScans(tx, 'streams');
      await singleStore.appendMany(
        [
          { streamId: existing, expectedVersion: 1, events: [creditsGranted('u1', 2)] },
          { streamId: fresh, expectedVersion: 0, events: [creditsGranted('u2', 3)] },
        ],
        { tx },
      );
      const after = await tableScans(tx, 'streams');
      return { seq: after.seq - before.seq, idx: after.idx - before.idx };
    });
    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
    expect(await store.streamVersion(existing)).toBe(2);
    expect(await store.streamVersion(fresh)).toBe(1);
  });

  it('reads many streams at once through the stream index, not by scanning the log', async () => {
    const ids = Array.from({ length: 100 }, () => stream());
    await store.appendMany(ids.map((streamId) => ({ streamId, expectedVersion: 0, events: [creditsGranted('u', 1), creditsGranted('u', 2)] })));
    await m.dataSource.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data)
       SELECT 'credits-filler-' || g, 1, gen_random_uuid(), 'CreditsGranted', 1, '{}' FROM generate_series(1, 20000) g`,
    );
    await m.dataSource.query(`ANALYZE events`);
    const { read, seq } = await inTransaction(m.dataSource, async (tx) => {
      const before = await tableScans(tx, 'events');
      const read = await store.readStreams(ids, { tx });
      return { read, seq: (await tableScans(tx, 'events')).seq - before.seq };
    });
    expect(seq).toBe(0);
    expect(ids.every((id) => read.get(id)?.map((e) => e.streamVersion).join() === '1,2')).toBe(true);
  });

  it("appends inside the caller's transaction and goes away with its rollback", async () => {
    const id = stream();
    const tx = m.dataSource.createQueryRunner();
    await tx.connect();
    try {
      await tx.startTransaction();
      await store.append(id, 0, [creditsGranted()], { tx });
      // A conflict writes nothing, so the caller's transaction stays usable.
      await expect(store.append(id, 0, [creditsGranted()], { tx })).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.streamVersion(id, { tx })).toBe(1);
      await tx.rollbackTransaction();
    } finally {
      await tx.release();
    }
    expect(await countEvents(id)).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on events in the database itself', async () => {
    const id = stream();
    await store.append(id, 0, [creditsGranted()]);
    await expect(m.dataSource.query(`UPDATE events SET type = 'Tampered' WHERE stream_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(m.dataSource.query(`DELETE FROM events WHERE stream_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(m.dataSource.query(`DELETE FROM events WHERE false`)).rejects.toThrow(/append-only/);
    await expect(m.dataSource.query(`TRUNCATE events`)).rejects.toThrow(/append-only/);
    const [row] = await store.readStream(id);
    expect(row.type).toBe('CreditsGranted');
  });
});
