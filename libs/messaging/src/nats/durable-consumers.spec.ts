import type { ConsumerConfig, ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { ensureConsumer } from './durable-consumers';

/** A JetStreamManager holding one consumer, whose update merges the delta into its config as nats.js does. */
function managerWith(config: Partial<ConsumerConfig>) {
  const sent: Partial<ConsumerConfig>[] = [];
  const consumer = { name: config.durable_name!, config } as ConsumerInfo;
  const jsm = {
    consumers: {
      info: async () => consumer,
      update: async (_stream: string, _durable: string, delta: Partial<ConsumerConfig>) => {
        consumer.config = Object.assign(consumer.config, delta);
        sent.push(JSON.parse(JSON.stringify(consumer.config)));
        return consumer;
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, sent };
}

describe('ensureConsumer updating a consumer in place', () => {
  it('clears `filter_subjects` when the binding has one filter now: nats-server 2.10 refuses a consumer with both', async () => {
    const { jsm, sent } = managerWith({ durable_name: 'submit', ack_policy: 'explicit' as never, max_deliver: -1, ack_wait: 30_000_000_000, max_ack_pending: 1000, filter_subjects: ['r.events.job.JobValidated', 'r.events.job.JobRetried'] });
    await ensureConsumer(jsm, { stream: 'R', durable: 'submit', filterSubjects: ['r.events.job.JobValidated'] });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ filter_subject: 'r.events.job.JobValidated' });
    expect(sent[0]).not.toHaveProperty('filter_subjects');
  });
});
