import { spawn } from 'node:child_process';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CheckpointStore } from '@reelay/event-store';
import { TEST_NATS_URL, uniqueNatsPrefix } from '@reelay/testing';
import { connectNats, ensureTopology, EventRelay, eventStreamName, eventSubject } from '../src';
import { LeaderLock } from '../src/relay/leader-lock';
import { appendJobEvents, countEvents, readStream, readWholeLog, setupPg, streamMessageCount, waitFor, type TestPg } from './helpers';

/** A relay in a child process; with CRASH_AFTER_BATCHES it SIGKILLs itself after publishing that batch, before saving its checkpoint. */
function spawnRelayChild(env: Record<string, string>) {
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'swc-register.cjs'), path.join(__dirname, 'relay-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, output });
    });
  });
  return { child, exited, output: () => output };
}

/** The connection, except that its `lose`-th publish never reaches the server. */
function losingPublish(nc: NatsConnection, lose: number): NatsConnection {
  let publishes = 0;
  return new Proxy(nc, {
    get(target, prop) {
      if (prop === 'publish') return (...args: Parameters<NatsConnection['publish']>) => (++publishes === lose ? undefined : target.publish(...args));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

jest.setTimeout(60_000);

describe('EventRelay (real PostgreSQL + NATS)', () => {
  let nc: NatsConnection;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    nc = await connectNats(TEST_NATS_URL, 'relay-spec');
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await nc.drain();
  });

  async function fixture(label: string): Promise<{ pg: TestPg; prefix: string }> {
    const pg = await setupPg(label);
    const prefix = uniqueNatsPrefix('relay');
    await ensureTopology(nc, prefix);
    cleanups.push(() => pg.close(), async () => (await jetstreamManager(nc)).streams.delete(eventStreamName(prefix)));
    return { pg, prefix };
  }

  /** Waits for a saved checkpoint at the last of the log's `events` events; the log is read at each look, since its reader trails the horizon. */
  async function waitForCheckpointAtLogEnd(pg: TestPg, events: number): Promise<void> {
    const store = new CheckpointStore(pg.ds);
    await waitFor(`a checkpoint past all ${events} events`, async () => {
      const log = await readWholeLog(pg.store);
      return log.length === events && (await store.get('relay'))?.globalPosition === log.at(-1)!.globalPosition;
    });
  }

  async function expectExactlyOnceInLogOrder(pg: TestPg, prefix: string): Promise<void> {
    const log = await readWholeLog(pg.store);
    const stream = await readStream(nc, prefix);
    expect(stream.map((m) => m.msgId)).toEqual(log.map((e) => e.eventId));
    expect(stream.map((m) => m.event)).toEqual(log);
    expect(stream.map((m) => m.subject)).toEqual(log.map((e) => eventSubject(prefix, e)));
  }

  it.each([
    { variant: 'JetStream dedup alone', skipPublishedTail: false },
    { variant: 'the stream-tail skip', skipPublishedTail: true },
  ])('a relay killed -9 after publishing but before its checkpoint leaves each event once in the stream, via $variant', async ({ skipPublishedTail }) => {
    const { pg, prefix } = await fixture('relay_crash');
    await appendJobEvents(pg.store, 120);

    // Writers keep appending while the relay runs and dies.
    let appending = true;
    const appender = (async () => {
      while (appending) await appendJobEvents(pg.store, 10, 5);
    })();
    const crash = await spawnRelayChild({ DATABASE_URL: pg.db.url, NATS_URL: TEST_NATS_URL, PREFIX: prefix, BATCH_SIZE: '40', CRASH_AFTER_BATCHES: '3' }).exited;
    appending = false;
    await appender;
    expect(crash.output).toContain('published 3');
    expect(crash.signal).toBe('SIGKILL');

    // The crash left 3 batches in the stream but only 2 checkpointed: the third will be re-published.
    const log = await readWholeLog(pg.store);
    const saved = await new CheckpointStore(pg.ds).get('relay');
    expect(saved).toEqual({ transactionId: log[79].transactionId, globalPosition: log[79].globalPosition });
    expect(await streamMessageCount(nc, prefix)).toBe(120);

    await appendJobEvents(pg.store, 50);
    const successor = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 40, pollIntervalMs: 20, skipPublishedTail });
    await successor.start();
    try {
      const total = await countEvents(pg);
      await waitFor('the successor to catch up', async () => (await streamMessageCount(nc, prefix)) >= total);
      expect(await streamMessageCount(nc, prefix)).toBe(total);
      await expectExactlyOnceInLogOrder(pg, prefix);
    } finally {
      await successor.stop();
    }
  });

  it('with two relays started together, one leads, the other takes over when it stops, and the stream holds each event once in order', async () => {
    const { pg, prefix } = await fixture('relay_pair');
    const other = await connectNats(TEST_NATS_URL, 'relay-spec-b');
    cleanups.push(() => other.drain());
    const opts = { dataSource: pg.ds, prefix, batchSize: 25, pollIntervalMs: 20, lockRetryMs: 50 };
    const a = new EventRelay({ ...opts, nc });
    const b = new EventRelay({ ...opts, nc: other });
    await Promise.all([a.start(), b.start()]);
    cleanups.push(() => a.stop(), () => b.stop());

    await Promise.all([appendJobEvents(pg.store, 150, 7), appendJobEvents(pg.store, 150, 3)]);
    await waitFor('one leader', () => a.isLeader || b.isLeader);
    expect(a.isLeader && b.isLeader).toBe(false);
    await waitFor('300 events relayed', async () => (await streamMessageCount(nc, prefix)) === 300);

    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    const appendWhileHandingOver = appendJobEvents(pg.store, 100, 4);
    await leader.stop();
    await waitFor('the standby to take over', () => standby.isLeader);
    await appendWhileHandingOver;
    await waitFor('400 events relayed', async () => (await streamMessageCount(nc, prefix)) === 400);
    await standby.stop();

    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('a standby keeps one PostgreSQL session from one try for the lock to the next, and ends it when stopped', async () => {
    const { pg, prefix } = await fixture('relay_standby_session');
    const opts = { dataSource: pg.ds, nc, prefix, pollIntervalMs: 20, lockRetryMs: 10 };
    const a = new EventRelay(opts);
    const b = new EventRelay(opts);
    await a.start();
    await waitFor('a to lead', () => a.isLeader);
    await b.start();
    cleanups.push(() => a.stop(), () => b.stop());
    const lockSessions = async () =>
      ((await pg.ds.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'reelay-lock:reelay.relay.relay'`)) as { pid: number }[]).map(
        (r) => r.pid,
      );
    // About 50 tries of the standby in half a second: a session per try would show many backends.
    const seen = new Set<number>();
    for (const until = Date.now() + 500; Date.now() < until; ) for (const pid of await lockSessions()) seen.add(pid);
    expect(b.isLeader).toBe(false);
    expect(seen.size).toBe(2);

    await a.stop();
    await waitFor('the standby to take over', () => b.isLeader);
    await b.stop();
    await waitFor('no lock session left', async () => (await lockSessions()).length === 0);
  });

  it('an event held back by another open transaction is published once that transaction ends, without waiting for the poll interval', async () => {
    const { pg, prefix } = await fixture('relay_horizon');
    // A poll interval far beyond the wait below: only the relay's short re-reads can deliver in time.
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, pollIntervalMs: 120_000 });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('the relay to lead', () => relay.isLeader);

    const blocker = pg.ds.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('SELECT pg_current_xact_id()'); // holds an xid, so the horizon stays below it
    await appendJobEvents(pg.store, 1, 1); // commits and notifies; the relay's read finds nothing yet
    await new Promise((r) => setTimeout(r, 300));
    expect(await streamMessageCount(nc, prefix)).toBe(0);

    await blocker.rollbackTransaction(); // ends without a NOTIFY
    await blocker.release();
    await waitFor('the held event to be relayed', async () => (await streamMessageCount(nc, prefix)) === 1, 10_000);
    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('publishes the next batch while the checkpoint of the last one is still being saved', async () => {
    const { pg, prefix } = await fixture('relay_pipelined_save');
    const store = new CheckpointStore(pg.ds);
    let releaseFirstSave!: () => void;
    const firstSaveHeld = new Promise<void>((r) => (releaseFirstSave = r));
    const saves: number[] = [];
    const checkpoints = {
      get: (name: string) => store.get(name),
      save: async (name: string, cp: Parameters<CheckpointStore['save']>[1], via: Parameters<CheckpointStore['save']>[2]) => {
        saves.push(saves.length);
        if (saves.length === 1) await firstSaveHeld; // the first save hangs until the second batch is out
        return store.save(name, cp, via);
      },
    };
    await appendJobEvents(pg.store, 30);
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, checkpoints });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('both batches in the stream while the first save still hangs', async () => (await streamMessageCount(nc, prefix)) === 30);
    expect(saves).toEqual([0]); // the second save waits for the first: saves stay in order
    releaseFirstSave();
    const log = await readWholeLog(pg.store);
    await waitFor('the second checkpoint', async () => (await store.get('relay'))?.globalPosition === log[29].globalPosition);
    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('when a read fails while a checkpoint save is failing too, both are reported, the read first', async () => {
    const { pg, prefix } = await fixture('relay_both_fail');
    await appendJobEvents(pg.store, 30);
    const store = new CheckpointStore(pg.ds);
    const warnings: string[] = [];
    let releaseSave!: () => void;
    const saveHeld = new Promise<void>((r) => (releaseSave = r));
    const checkpoints = { get: (name: string) => store.get(name), save: async () => (await saveHeld, Promise.reject(new Error('checkpoint table gone'))) };
    const eventLog = pg.store;
    // The read after the first batch fails. Counted by batches, not by reads: a read can come back
    // empty while another test's transaction holds the horizon back (xids are cluster-wide).
    let batchRead = false;
    let failed = false;
    const log = {
      positionOf: (id: string) => eventLog.positionOf(id),
      readLastUpTo: (...args: Parameters<typeof eventLog.readLastUpTo>) => eventLog.readLastUpTo(...args),
      readAll: async (after: Parameters<typeof eventLog.readAll>[0], limit: number) => {
        if (batchRead && !failed) {
          failed = true;
          setTimeout(releaseSave, 20); // the first batch's save fails while this read is failing
          await new Promise((r) => setTimeout(r, 50));
          throw new Error('log read broke');
        }
        const read = await eventLog.readAll(after, limit);
        if (read.events.length > 0) batchRead = true;
        return read;
      },
    };
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, errorBackoffMs: 60_000, checkpoints, log, logger: { log: () => undefined, warn: (m) => void warnings.push(m) } });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('both failures reported', async () => warnings.length >= 2);
    expect(warnings.slice(0, 2)).toEqual([expect.stringContaining('checkpoint save failed too: checkpoint table gone'), expect.stringContaining('log read broke')]);
  });

  it('a failed checkpoint save alone is reported once, as the error that ended the leadership', async () => {
    const { pg, prefix } = await fixture('relay_save_fails');
    await appendJobEvents(pg.store, 30);
    const store = new CheckpointStore(pg.ds);
    const warnings: string[] = [];
    const checkpoints = { get: (name: string) => store.get(name), save: async () => Promise.reject(new Error('checkpoint table gone')) };
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, errorBackoffMs: 60_000, checkpoints, logger: { log: () => undefined, warn: (m) => void warnings.push(m) } });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('the failure reported', async () => warnings.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(warnings).toEqual([expect.stringMatching(/checkpoint table gone; retrying$/)]);
  });

  it('a leader whose lock session ended saves no checkpoint: the save goes through that session', async () => {
    const { pg, prefix } = await fixture('relay_lost_lock');
    await appendJobEvents(pg.store, 30);
    const store = new CheckpointStore(pg.ds);
    const saves: { outcome: 'saved' | 'refused'; position: string }[] = [];
    const checkpoints = {
      get: (name: string) => store.get(name),
      save: (name: string, cp: Parameters<CheckpointStore['save']>[1], via: Parameters<CheckpointStore['save']>[2]) =>
        store.save(name, cp, via).then(
          () => void saves.push({ outcome: 'saved', position: cp.globalPosition }),
          (err: unknown) => {
            saves.push({ outcome: 'refused', position: cp.globalPosition });
            throw err;
          },
        ),
    };
    const lockSessions = () => pg.ds.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'reelay-lock:reelay.relay.relay' AND datname = current_database()`);
    let batches = 0;
    // The first batch is published, then its leader loses the lock's session before saving.
    const afterPublish = async () => {
      if (++batches > 1) return;
      await pg.ds.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reelay-lock:reelay.relay.relay' AND datname = current_database()`);
      await waitFor('the lock session to end', async () => (await lockSessions()).length === 0);
    };
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, errorBackoffMs: 50, checkpoints, afterPublish });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('the first save to be refused', () => saves.length > 0);
    // The old leadership may still have published the rest before it noticed; a new one that
    // starts after the stream's tail has nothing to save until there is something new.
    await appendJobEvents(pg.store, 10);
    await waitForCheckpointAtLogEnd(pg, 40); // by a new leadership
    const [refused, ...later] = saves;
    expect(refused?.outcome).toBe('refused');
    // Nothing saved the refused position afterwards (no fallback around the lost session).
    expect(later.filter((s) => s.outcome === 'refused' || s.position === refused!.position)).toEqual([]);
    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('a checkpoint save blocked on the server ends the leadership instead of holding the lock forever', async () => {
    const { pg, prefix } = await fixture('relay_blocked_save');
    await appendJobEvents(pg.store, 10);
    const warnings: string[] = [];
    const relay = new EventRelay({
      dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, errorBackoffMs: 50, lockStatementTimeoutMs: 300,
      logger: { log: () => undefined, warn: (m) => void warnings.push(m) },
    });
    // Another session holds the checkpoints table, so the relay's saves wait for it. A table lock
    // takes no transaction id, so the log's horizon (and the relay's reads) do not wait for it.
    const blocker = pg.ds.createQueryRunner();
    await blocker.connect();
    try {
      await blocker.startTransaction();
      await blocker.query('LOCK TABLE checkpoints IN EXCLUSIVE MODE');
      await relay.start();
      cleanups.push(() => relay.stop());
      await waitFor('the first batch in the stream', async () => (await streamMessageCount(nc, prefix)) === 10);
      await appendJobEvents(pg.store, 10); // the next batch waits for the blocked save before its own
      await waitFor('the blocked save to end the leadership', () => warnings.some((w) => /statement timeout; retrying$/.test(w)));
    } finally {
      await blocker.rollbackTransaction().catch(() => undefined);
      await blocker.release();
    }
    await appendJobEvents(pg.store, 10);
    await waitForCheckpointAtLogEnd(pg, 30); // by a new leadership
    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('a relay taking over starts after the newest event the stream holds, however far the saved checkpoint lags', async () => {
    const { pg, prefix } = await fixture('relay_tail_start');
    await appendJobEvents(pg.store, 60);
    // A leader that published everything but never got to save a checkpoint.
    const neverSaves = { get: async () => null, save: async () => undefined };
    const first = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, checkpoints: neverSaves });
    await first.start();
    await waitFor('the first leader to publish all 60', async () => (await streamMessageCount(nc, prefix)) === 60);
    await first.stop();

    await appendJobEvents(pg.store, 15);
    const read: string[] = [];
    const successor = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, afterPublish: (events) => void read.push(...events.map((e) => e.eventId)) });
    await successor.start();
    cleanups.push(() => successor.stop());
    await waitFor('the successor to publish the 15 new events', async () => (await streamMessageCount(nc, prefix)) === 75);
    const log = await readWholeLog(pg.store);
    // Three batches behind its (missing) checkpoint, it re-sent nothing: no reliance on JetStream's dedup window.
    expect(read).toEqual(log.slice(60).map((e) => e.eventId));
    await expectExactlyOnceInLogOrder(pg, prefix);
  });

  it('a message some other publisher put on the events stream, with an id that is no event id, does not stop the next leader', async () => {
    const { pg, prefix } = await fixture('relay_stray_tail');
    await appendJobEvents(pg.store, 5);
    const first = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20 });
    await first.start();
    await waitFor('the first leader to publish all 5', async () => (await streamMessageCount(nc, prefix)) === 5);
    await first.stop();

    // As an operator's `nats pub … -H Nats-Msg-Id:test` would leave it: the stream's newest message.
    await jetstream(nc).publish(`${prefix}.events.job.JobProgressed`, '{}', { msgID: 'manual-1' });
    await appendJobEvents(pg.store, 3);
    const successor = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 20, pollIntervalMs: 20, errorBackoffMs: 50 });
    await successor.start();
    cleanups.push(() => successor.stop());
    await waitFor('the successor to publish the 3 new events', async () => (await streamMessageCount(nc, prefix)) === 9);
    const ids = (await readWholeLog(pg.store)).map((e) => e.eventId);
    expect((await readStream(nc, prefix)).map((m) => m.msgId)).toEqual([...ids.slice(0, 5), 'manual-1', ...ids.slice(5)]);
  });

  it('a stream lost under a running relay (a JetStream store wiped, an operator) is made again, and the events appended since reach it', async () => {
    const { pg, prefix } = await fixture('relay_lost_stream');
    await appendJobEvents(pg.store, 5);
    const relay = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 40, pollIntervalMs: 20, publishTimeoutMs: 300, errorBackoffMs: 50 });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('the first events in the stream', async () => (await streamMessageCount(nc, prefix)) === 5);

    await (await jetstreamManager(nc)).streams.delete(eventStreamName(prefix));
    await appendJobEvents(pg.store, 3);
    await waitFor('the events appended since in a stream made again', async () => (await streamMessageCount(nc, prefix).catch(() => 0)) === 3, 20_000);
    const log = await readWholeLog(pg.store);
    expect((await readStream(nc, prefix)).map((m) => m.msgId)).toEqual(log.slice(5).map((e) => e.eventId));
  });

  it('a batch stored with a hole (one message lost mid-batch, later ones stored) is sent again whole: no event is skipped', async () => {
    const { pg, prefix } = await fixture('relay_hole');
    await appendJobEvents(pg.store, 40);
    // The 10th message of the first batch never reaches the server; the other 39 are stored.
    const relay = new EventRelay({ dataSource: pg.ds, nc: losingPublish(nc, 10), prefix, batchSize: 40, pollIntervalMs: 20, publishTimeoutMs: 300, errorBackoffMs: 50 });
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('all 40 events in the stream', async () => (await streamMessageCount(nc, prefix)) === 40);
    const log = await readWholeLog(pg.store);
    const stream = await readStream(nc, prefix);
    expect(stream.map((m) => m.msgId).sort()).toEqual(log.map((e) => e.eventId).sort());
    // The lost one lands after its successors: the edge the relay documents.
    expect(stream.at(-1)!.msgId).toBe(log[9]!.eventId);
  });

  it('a leader that stops with a hole in its batch (a message lost, later ones stored) leaves it to its successor, which publishes the lost event before going on', async () => {
    const { pg, prefix } = await fixture('relay_hole_successor');
    await appendJobEvents(pg.store, 40);
    const neverSaves = { get: async () => null, save: async () => undefined };
    const first = new EventRelay({ dataSource: pg.ds, nc: losingPublish(nc, 10), prefix, batchSize: 40, pollIntervalMs: 20, publishTimeoutMs: 2_000, checkpoints: neverSaves });
    await first.start();
    await waitFor('39 of the 40 stored', async () => (await streamMessageCount(nc, prefix)) === 39);
    await first.stop(); // before the batch is sent again: the stream's newest message lies past the hole

    await appendJobEvents(pg.store, 10);
    const successor = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 40, pollIntervalMs: 20 });
    await successor.start();
    cleanups.push(() => successor.stop());
    await waitFor('all 50 events in the stream', async () => (await streamMessageCount(nc, prefix)) === 50);
    const log = await readWholeLog(pg.store);
    const stream = await readStream(nc, prefix);
    expect(stream.map((m) => m.msgId).sort()).toEqual(log.map((e) => e.eventId).sort());
    // The lost event lands right after the dead leader's last message, before the new ones, which keep their order.
    expect(stream.slice(39).map((m) => m.msgId)).toEqual([log[9]!.eventId, ...log.slice(40).map((e) => e.eventId)]);
  });

  it('the leader lock session asks the server to notice a vanished holder within seconds (TCP keepalives, user timeout)', async () => {
    const { pg } = await fixture('relay_lock_keepalive');
    const lock = (await LeaderLock.tryAcquire(pg.db.url, 'keepalive-spec'))!;
    try {
      const [row] = (await lock.query(
        `SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS every,
                current_setting('tcp_keepalives_count') AS count, current_setting('tcp_user_timeout') AS user_timeout`,
      )) as Record<string, string>[];
      expect(row).toEqual({ idle: '10', every: '5', count: '3', user_timeout: '30000' });
    } finally {
      await lock.release();
    }
  });

  it('a standby takes over when the leading relay process is killed -9', async () => {
    const { pg, prefix } = await fixture('relay_takeover');
    await appendJobEvents(pg.store, 100);
    const leader = spawnRelayChild({ DATABASE_URL: pg.db.url, NATS_URL: TEST_NATS_URL, PREFIX: prefix, BATCH_SIZE: '30' });
    cleanups.push(async () => leader.child.kill('SIGKILL'));
    await waitFor('the child relay to publish', async () => (await streamMessageCount(nc, prefix)) === 100);

    const standby = new EventRelay({ dataSource: pg.ds, nc, prefix, batchSize: 30, pollIntervalMs: 20, lockRetryMs: 50 });
    await standby.start();
    cleanups.push(() => standby.stop());
    expect(standby.isLeader).toBe(false);

    let appending = true;
    const appender = (async () => {
      while (appending) await appendJobEvents(pg.store, 6, 3);
    })();
    await waitFor('the child to relay more', async () => (await streamMessageCount(nc, prefix)) >= 130);
    leader.child.kill('SIGKILL');
    expect((await leader.exited).signal).toBe('SIGKILL');
    await waitFor('the standby to lead', () => standby.isLeader);
    appending = false;
    await appender;

    const total = await countEvents(pg);
    await waitFor('every event relayed', async () => (await streamMessageCount(nc, prefix)) >= total);
    expect(await streamMessageCount(nc, prefix)).toBe(total);
    await expectExactlyOnceInLogOrder(pg, prefix);
  });
});
