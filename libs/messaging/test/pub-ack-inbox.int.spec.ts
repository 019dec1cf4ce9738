import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TEST_NATS_URL, uniqueNatsPrefix } from '@reelay/testing';
import { connectNats, ensureEventStream, eventStreamName } from '../src';
import { PubAckInbox } from '../src/nats/pub-ack-inbox';

describe('PubAckInbox (real NATS JetStream)', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let acks: PubAckInbox;
  const prefix = uniqueNatsPrefix('puback');
  const stream = eventStreamName(prefix);
  const msg = (n: number, msgId = `id-${prefix}-${n}`) => ({ subject: `${prefix}.events.job.Test`, data: JSON.stringify({ n }), msgId });

  beforeAll(async () => {
    nc = await connectNats(TEST_NATS_URL, 'pub-ack-inbox-spec');
    jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, prefix);
    acks = new PubAckInbox(nc);
  });

  afterAll(async () => {
    acks.close();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.drain();
  });

  const stored = async () => {
    const info = await jsm.streams.info(stream);
    const out: { n: number; msgId: string | undefined }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) out.push({ n: m.json<{ n: number }>().n, msgId: m.header?.get('Nats-Msg-Id') });
    }
    return out;
  };

  it('stores a batch in the order it was sent, each with its id, and resolves once all are acked', async () => {
    await acks.publishAll(stream, [1, 2, 3, 4, 5].map((n) => msg(n)), 5_000);
    expect(await stored()).toEqual([1, 2, 3, 4, 5].map((n) => ({ n, msgId: `id-${prefix}-${n}` })));
  });

  it('counts a message whose id the stream already holds as stored, and the stream keeps one copy', async () => {
    const before = (await stored()).length;
    await acks.publishAll(stream, [msg(2), msg(6)], 5_000);
    expect((await stored()).slice(before)).toEqual([{ n: 6, msgId: `id-${prefix}-6` }]);
  });

  it('rejects when the stream that stores the subject is not the one expected', async () => {
    await expect(acks.publishAll('NOT_THE_STREAM', [msg(7)], 5_000)).rejects.toThrow(/JetStream refused a publish/);
  });

  it('rejects when no stream stores the subject', async () => {
    await expect(acks.publishAll(stream, [{ ...msg(8), subject: `${prefix}-nostream.x` }], 5_000)).rejects.toThrow(/no JetStream stream stores this subject/);
  });

  it('rejects at the timeout when something other than a stream takes the message and never acks', async () => {
    const subject = `${prefix}-silent.x`;
    const silent = nc.subscribe(subject, { callback: () => undefined });
    try {
      await expect(acks.publishAll(stream, [{ ...msg(9), subject }], 200)).rejects.toThrow(/did not ack 1 of 1 publishes within 200 ms/);
    } finally {
      silent.unsubscribe();
    }
    // The inbox carries on after a failed batch.
    await acks.publishAll(stream, [msg(10)], 5_000);
    expect((await stored()).at(-1)).toEqual({ n: 10, msgId: `id-${prefix}-10` });
  });
});
