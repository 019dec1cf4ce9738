import { jetstream } from '@nats-io/jetstream';
import { DeadLetterStore } from '@reelay/event-store';
import { connectNats, replayDeadLetter } from '@reelay/messaging';
import { UsageError } from '../args';
import type { CliContext } from '../context';

export async function deadLettersCommand(ctx: CliContext, [sub, id]: string[], options: Record<string, string>): Promise<void> {
  const store = new DeadLetterStore(ctx.ds);
  if (sub === 'list') {
    const letters = await store.list({ consumer: options.consumer, includeReplayed: options.all === 'true' });
    for (const l of letters) ctx.out(JSON.stringify({ id: l.id, consumer: l.consumer, subject: l.subject, eventId: l.eventId, deliveries: l.deliveries, error: l.error, createdAt: l.createdAt, replayedAt: l.replayedAt }));
    if (!letters.length) ctx.out('no dead letters');
    return;
  }
  if (sub === 'replay') {
    if (!id) throw new UsageError('dead-letters replay <id>');
    const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', 'reelay-cli');
    try {
      const ack = await replayDeadLetter(jetstream(nc), store, id);
      ctx.out(JSON.stringify({ replayed: id, streamSequence: ack.seq }));
    } finally {
      await nc.drain();
    }
    return;
  }
  throw new UsageError('dead-letters list [--consumer C] [--all] | dead-letters replay <id>');
}
