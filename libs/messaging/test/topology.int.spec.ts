import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TEST_NATS_URL, uniqueNatsPrefix } from '@reelay/testing';
import { connectNats, ensureTopology, eventStreamName, natsHealthy } from '../src';

describe('ensureTopology (real NATS)', () => {
  let nc: NatsConnection;
  const prefixes: string[] = [];

  beforeAll(async () => {
    nc = await connectNats(TEST_NATS_URL, 'topology-spec');
  });

  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const p of prefixes) await jsm.streams.delete(eventStreamName(p)).catch(() => undefined);
    await nc.drain();
  });

  const consumersOf = (prefix: string) => [
    { stream: eventStreamName(prefix), durable: 'dispatch', filterSubjects: [`${prefix}.events.job.JobValidated`] },
    { stream: eventStreamName(prefix), durable: 'notify', filterSubjects: [`${prefix}.events.job.>`] },
  ];

  it('creates the stream and consumers once, and a second call changes nothing', async () => {
    const prefix = uniqueNatsPrefix('topo');
    prefixes.push(prefix);
    const first = await ensureTopology(nc, prefix, { consumers: consumersOf(prefix) });
    const second = await ensureTopology(nc, prefix, { consumers: consumersOf(prefix) });

    expect(first.stream.config.name).toBe(`${prefix.toUpperCase()}_EVENTS`);
    expect(first.stream.config.subjects).toEqual([`${prefix}.events.>`]);
    expect(first.stream.config.storage).toBe('file');
    expect(second.stream.created).toEqual(first.stream.created);
    expect(second.consumers.get('dispatch')!.info.created).toEqual(first.consumers.get('dispatch')!.info.created);
    expect(second.consumers.get('notify')!.info.config.filter_subject).toBe(`${prefix}.events.job.>`);
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const c of jsm.consumers.list(eventStreamName(prefix))) names.push(c.name);
    expect(names.sort()).toEqual(['dispatch', 'notify']);
  });

  it('is safe when several replicas run it at the same time', async () => {
    const prefix = uniqueNatsPrefix('topo');
    prefixes.push(prefix);
    const replicas = await Promise.all(Array.from({ length: 3 }, (_, i) => connectNats(TEST_NATS_URL, `topology-replica-${i}`)));
    try {
      const results = await Promise.all(replicas.map((c) => ensureTopology(c, prefix, { consumers: consumersOf(prefix) })));
      expect(new Set(results.map((r) => r.stream.created)).size).toBe(1);
      expect(new Set(results.map((r) => r.consumers.get('dispatch')!.info.created)).size).toBe(1);
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(eventStreamName(prefix));
      expect(info.state.consumer_count).toBe(2);
    } finally {
      await Promise.all(replicas.map((c) => c.drain()));
    }
  });

  it('reports a live connection as healthy and a closed one as not', async () => {
    const other = await connectNats(TEST_NATS_URL, 'health-spec');
    expect(await natsHealthy(other)).toBe(true);
    await other.close();
    expect(await natsHealthy(other)).toBe(false);
  });
});
