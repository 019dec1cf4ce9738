import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { EventStore } from '../store/event-store';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { compareCheckpoints, LOG_START, type LogCheckpoint } from './log-checkpoint';

/*
 * How we know these tests catch a naive reader: the control test runs the late-commit scenario
 * against `WHERE global_position > $last` and asserts that it loses the event. We also ran this file
 * with READ_ALL_SQL in read-all.ts temporarily replaced by the naive query
 * (`global_position > $2 ORDER BY global_position`): the in-order test and the 8-writer test failed
 * (3 runs out of 3: committed events missing from the set), and they pass with the xmin-based query.
 * The 8-writer test also caught a real bug here: ORDER BY on the `::text` output aliases sorted
 * positions as text ('10' before '9'), giving duplicates and gaps.
 */
describe('readAll: tailing the log while writers commit out of order (real PostgreSQL)', () => {
  let m: MigratedDatabase;
  let writerStore: EventStore;
  let reader: EventStore;
  let readerDs: DataSource;

  beforeAll(async () => {
    m = await migratedDatabase('log_reader', 10);
    writerStore = new EventStore(m.dataSource);
    readerDs = await m.extraDataSource(2);
    reader = new EventStore(readerDs);
  });
  afterAll(() => m.close());

  async function readToEnd(from: LogCheckpoint): Promise<{ events: RecordedEvent[]; checkpoint: LogCheckpoint }> {
    const events: RecordedEvent[] = [];
    let checkpoint = from;
    for (;;) {
      const page = await reader.readAll(checkpoint, 100);
      events.push(...page.events);
      checkpoint = page.checkpoint;
      if (page.events.length < 100) return { events, checkpoint };
    }
  }

  /** Writer A takes the lower position and keeps its transaction open; writer B takes a higher one and commits. */
  async function lateCommitScenario(whileOpen: () => Promise<void>): Promise<{ early: RecordedEvent; late: RecordedEvent }> {
    const txA = m.dataSource.createQueryRunner();
    await txA.connect();
    try {
      await txA.startTransaction();
      const [early] = (await writerStore.append(`late-${randomUUID()}`, 0, [creditsGranted()], { tx: txA })).events;
      const [late] = (await writerStore.append(`prompt-${randomUUID()}`, 0, [creditsGranted()])).events;
      expect(BigInt(early.globalPosition)).toBeLessThan(BigInt(late.globalPosition));
      await whileOpen();
      await txA.commitTransaction();
      return { early, late };
    } finally {
      if (txA.isTransactionActive) await txA.rollbackTransaction();
      await txA.release();
    }
  }

  it('control: a naive `global_position > $last` reader loses an event that commits late', async () => {
    const naiveRead = async (after: string) =>
      (await readerDs.query(`SELECT event_id, global_position::text AS pos FROM events WHERE global_position > $1 ORDER BY global_position`, [after])) as {
        event_id: string;
        pos: string;
      }[];
    const [{ max }] = await readerDs.query(`SELECT coalesce(max(global_position), 0)::text AS max FROM events`);
    let naiveCheckpoint = max as string;
    const seen: string[] = [];
    const { early, late } = await lateCommitScenario(async () => {
      const rows = await naiveRead(naiveCheckpoint);
      seen.push(...rows.map((r) => r.event_id));
      naiveCheckpoint = rows.at(-1)?.pos ?? naiveCheckpoint;
    });
    seen.push(...(await naiveRead(naiveCheckpoint)).map((r) => r.event_id));
    expect(seen).toContain(late.eventId);
    expect(seen).not.toContain(early.eventId);
  });

  it('does not return a later position before an earlier one commits, then returns both in order', async () => {
    let checkpoint = (await readToEnd(LOG_START)).checkpoint;
    const seenWhileOpen: string[] = [];
    const { early, late } = await lateCommitScenario(async () => {
      const page = await readToEnd(checkpoint);
      seenWhileOpen.push(...page.events.map((e) => e.eventId));
      checkpoint = page.checkpoint;
    });
    expect(seenWhileOpen).not.toContain(late.eventId);
    expect(seenWhileOpen).not.toContain(early.eventId);

    // Earlier tests' events may show up too: they become readable only once the horizon (shared
    // with every other session on this server) passes them.
    const ours = new Set([early.eventId, late.eventId]);
    const after: RecordedEvent[] = [];
    while (after.length < 2) {
      const page = await readToEnd(checkpoint);
      after.push(...page.events.filter((e) => ours.has(e.eventId)));
      checkpoint = page.checkpoint;
    }
    expect(after.map((e) => e.eventId)).toEqual([early.eventId, late.eventId]);
  });

  it('sees every committed event exactly once, in log order, while 8 writers append and some commit late or roll back', async () => {
    const start = (await readToEnd(LOG_START)).checkpoint;
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    const WRITERS = 8;
    const ROUNDS = 25;

    const streams = new Set<string>();
    const writer = async (w: number) => {
      const streamId = `writer-${w}-${randomUUID()}`;
      streams.add(streamId);
      let version = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const events = Array.from({ length: 1 + ((w + i) % 3) }, () => creditsGranted(`writer-${w}`));
        const mode = (w + i) % 4; // 0: hold open then commit, 1: hold open then roll back, else: commit at once
        if (mode >= 2) {
          const r = await writerStore.append(streamId, version, events);
          r.events.forEach((e) => committed.add(e.eventId));
          version = r.nextExpectedVersion;
          continue;
        }
        const tx = m.dataSource.createQueryRunner();
        await tx.connect();
        try {
          await tx.startTransaction();
          const r = await writerStore.append(streamId, version, events, { tx });
          await tx.query(`SELECT pg_sleep($1)`, [0.005 + ((w * 7 + i) % 5) * 0.005]);
          if (mode === 0) {
            await tx.commitTransaction();
            r.events.forEach((e) => committed.add(e.eventId));
            version = r.nextExpectedVersion;
          } else {
            await tx.rollbackTransaction();
            r.events.forEach((e) => rolledBack.add(e.eventId));
          }
        } finally {
          await tx.release();
        }
      }
    };

    const everything: RecordedEvent[] = [];
    // Only this test's events: earlier tests' events may become readable during it.
    const received: RecordedEvent[] = [];
    const take = (events: RecordedEvent[]) => {
      everything.push(...events);
      received.push(...events.filter((e) => streams.has(e.streamId)));
    };
    let writersDone = false;
    const tail = async () => {
      let checkpoint = start;
      // Liveness bound only: a correct reader is done as soon as the last writer's commit is below the horizon.
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !(writersDone && received.length >= committed.size)) {
        const page = await reader.readAll(checkpoint, 7);
        take(page.events);
        checkpoint = page.checkpoint;
        if (page.events.length === 0) await new Promise((r) => setTimeout(r, 2));
      }
      // Nothing more may show up afterwards.
      take((await reader.readAll(checkpoint, 1000)).events);
    };

    const tailing = tail();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writersDone = true;
    await tailing;

    const ids = received.map((e) => e.eventId);
    const dup = received.filter((e, i) => ids.indexOf(e.eventId) !== i);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect(new Set(ids)).toEqual(committed); // nothing missing, nothing rolled back
    expect(ids.filter((id) => rolledBack.has(id))).toEqual([]);
    expect(rolledBack.size).toBeGreaterThan(0);

    for (let i = 1; i < everything.length; i++) {
      expect(compareCheckpoints(everything[i - 1], everything[i])).toBeLessThan(0);
    }
    const lastVersion = new Map<string, number>();
    for (const e of received) {
      expect(e.streamVersion).toBe((lastVersion.get(e.streamId) ?? 0) + 1);
      lastVersion.set(e.streamId, e.streamVersion);
    }
  }, 30_000);

  it('keeps stream order in the log even when a multi-stream transaction waits for a stream another writer holds', async () => {
    const shared = `shared-${randomUUID()}`;
    const own = `own-${randomUUID()}`;
    await writerStore.append(shared, 0, [creditsGranted()]);

    // T1 holds `shared` (v2) open; T2 writes `own` and `shared` (v3 if it waits for T1, conflicts otherwise).
    const t1 = m.dataSource.createQueryRunner();
    await t1.connect();
    let second: Promise<unknown>;
    try {
      await t1.startTransaction();
      await writerStore.append(shared, 1, [creditsGranted()], { tx: t1 });
      second = writerStore.appendMany([
        { streamId: own, expectedVersion: 0, events: [creditsGranted()] },
        { streamId: shared, expectedVersion: 'any', events: [creditsGranted()] },
      ]);
      await new Promise((r) => setTimeout(r, 50));
      await t1.commitTransaction();
    } finally {
      await t1.release();
    }
    await second;

    let got: RecordedEvent[] = [];
    let checkpoint = LOG_START;
    while (got.filter((e) => e.streamId === shared).length < 3) {
      const page = await readToEnd(checkpoint);
      got = [...got, ...page.events];
      checkpoint = page.checkpoint;
    }
    expect(got.filter((e) => e.streamId === shared).map((e) => e.streamVersion)).toEqual([1, 2, 3]);
  });

  it('readLastUpTo gives the newest events of a range, bounds included as documented, in log order', async () => {
    const before = (await readToEnd(LOG_START)).checkpoint;
    const stream = `range-${randomUUID()}`;
    for (let v = 0; v < 6; v++) await writerStore.append(stream, v, [creditsGranted()]);
    // Another test's open transaction anywhere on the cluster holds the horizon back for a moment.
    const deadline = Date.now() + 15_000;
    let all = (await readToEnd(before)).events.filter((e) => e.streamId === stream);
    while (all.length < 6 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      all = (await readToEnd(before)).events.filter((e) => e.streamId === stream);
    }
    expect(all).toHaveLength(6);
    const at = (e: RecordedEvent): LogCheckpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

    const upToFifth = await reader.readLastUpTo(at(all[0]!), at(all[4]!), 3);
    expect(upToFifth.map((e) => e.streamVersion)).toEqual([3, 4, 5]);
    const wholeRange = await reader.readLastUpTo(at(all[0]!), at(all[4]!), 100);
    expect(wholeRange.map((e) => e.streamVersion)).toEqual([2, 3, 4, 5]);
  });
});
