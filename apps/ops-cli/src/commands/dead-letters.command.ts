import { jetstream } from '@nats-io/jetstream';
import { DeadLetterStore } from '@reelay/event-store';
import { connectNats, replayDeadLetter } from '@reelay/messaging';
import { UsageError } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';

async function deadLetters(ctx: CliContext, [sub, id]: string[], options: Record<string, string>): Promise<void> {
  const store = new DeadLetterStore(ctx.ds);
  if (sub === 'list') {
    const letters = await store.list({ consumer: options.consumer, includeReplayed: options.all === 'true' });
    for (const l of letters) ctx.out(JSON.stringify({ id: l.id, consumer: l.consumer, subject: l.subject, eventId: l.eventId, deliveries: l.deliveries, error: l.error, createdAt: l.createdAt, replayedAt: l.replayedAt }));
    if (!letters.length) ctx.out('no dead letters');
    return;
  }
  if (sub === 'replay') {
    if (!id && options.all !== 'true') throw new UsageError(USAGE);
    const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', 'reelay-cli');
    try {
      const js = jetstream(nc);
      if (id) {
        const { ack, marked } = await replayDeadLetter(js, store, id);
        ctx.out(JSON.stringify({ replayed: id, streamSequence: ack.seq, ...stillOpen(marked, ack.duplicate) }));
        return;
      }
      // Every letter not replayed yet (of one consumer with --consumer), oldest first, a page at a
      // time, up to the newest one now: a replay that fails again makes a new letter, left for next time.
      const [{ last }]: { last: string | null }[] = await ctx.ds.query(`SELECT max(id)::text AS last FROM dead_letters`);
      let replayed = 0;
      let failed = 0;
      for (let after: string | undefined; last !== null; ) {
        const page = (await store.list({ consumer: options.consumer, after, limit: 500 })).filter((l) => BigInt(l.id) <= BigInt(last));
        for (const letter of page) {
          try {
            const { ack, marked } = await replayDeadLetter(js, store, letter.id);
            ctx.out(JSON.stringify({ replayed: letter.id, consumer: letter.consumer, streamSequence: ack.seq, ...stillOpen(marked, ack.duplicate) }));
            replayed++;
          } catch (err) {
            ctx.out(JSON.stringify({ notReplayed: letter.id, consumer: letter.consumer, error: err instanceof Error ? err.message : String(err) }));
            failed++;
          }
        }
        if (page.length < 500) break;
        after = page.at(-1)!.id;
      }
      ctx.out(JSON.stringify({ replayedCount: replayed, failedCount: failed }));
      if (failed) throw new Error(`${failed} dead letters could not be replayed (listed above)`);
    } finally {
      await nc.drain();
    }
    return;
  }
  throw new UsageError(USAGE);
}

/** A replay whose event failed again before it ended leaves its letter open, with the new error: said so. */
const stillOpen = (marked: boolean, duplicate = false) =>
  marked ? {} : duplicate
    ? { published: false, note: 'replayed less than 2 minutes ago (the stream took this for a duplicate): the letter stays open; replay it again later' }
    : { failedAgain: true, note: 'the event failed again while it was replayed: the letter stays open with that failure' };

const USAGE = 'dead-letters list [--consumer C] [--all] | dead-letters replay <id> | dead-letters replay --all [--consumer C]';

export const deadLettersCommand: Command = {
  subcommands: { list: { consumer: 'value', all: 'switch' }, replay: { consumer: 'value', all: 'switch' } },
  usage: USAGE,
  run: deadLetters,
};
