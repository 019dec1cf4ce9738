import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { jobStreamId, type RecordedEvent } from '@reelay/contracts';
import { createDataSource, EventStore, LOG_START, runMigrations } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { eventStreamName } from '../src/nats/subjects';

export interface TestPg {
  db: TestDatabase;
  ds: DataSource;
  store: EventStore;
  close(): Promise<void>;
}

export async function setupPg(label: string): Promise<TestPg> {
  const db = await createTestDatabase(label);
  const ds = await createDataSource(db.url, { poolSize: 4 }).initialize();
  await runMigrations(ds);
  return {
    db,
    ds,
    store: new EventStore(ds),
    async close() {
      await ds.destroy();
      await db.drop();
    },
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export function newJobId(): string {
  let id = 'job_';
  for (let i = 0; i < 26; i++) id += CROCKFORD[Math.floor(Math.random() * 32)];
  return id;
}

/** Appends `count` valid job events over a few job streams, `perAppend` events per transaction. */
export async function appendJobEvents(store: EventStore, count: number, perAppend = 10): Promise<void> {
  let left = count;
  while (left > 0) {
    const n = Math.min(perAppend, left);
    const at = new Date().toISOString();
    const events = Array.from({ length: n }, (_, i) => ({ type: 'JobProgressed', data: { progress: i % 101, at }, eventId: randomUUID() }));
    await store.append(jobStreamId(newJobId()), 0, events);
    left -= n;
  }
}

/** Every event in the log, in log order. */
export async function readWholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after = LOG_START;
  for (;;) {
    const { events, checkpoint } = await store.readAll(after, 1000);
    if (events.length === 0) return all;
    all.push(...events);
    after = checkpoint;
  }
}

/** Committed events, counted directly (readAll may lag while any transaction in the cluster is open). */
export async function countEvents(pg: TestPg): Promise<number> {
  const rows: { n: number }[] = await pg.ds.query('SELECT count(*)::int AS n FROM events');
  return rows[0].n;
}

export async function streamMessageCount(nc: NatsConnection, prefix: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(eventStreamName(prefix))).state.messages;
}

/** All messages of the events stream in stream order: their msg ids and parsed payloads. */
export async function readStream(nc: NatsConnection, prefix: string): Promise<{ msgId: string; subject: string; event: RecordedEvent }[]> {
  const total = await streamMessageCount(nc, prefix);
  const consumer = await jetstream(nc).consumers.get(eventStreamName(prefix));
  const out: { msgId: string; subject: string; event: RecordedEvent }[] = [];
  while (out.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(500, total - out.length), expires: 2000 });
    for await (const m of batch) out.push({ msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject, event: m.json<RecordedEvent>() });
  }
  return out;
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 25_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
