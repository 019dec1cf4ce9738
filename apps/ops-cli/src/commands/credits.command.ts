import { creditStreamId } from '@reelay/contracts';
import { createHash } from 'node:crypto';
import { DuplicateEventError, handle, loadStreamState } from '@reelay/event-store';
import { availableCredits, creditsDecider, creditsLedgerFold } from '@reelay/job-domain';
import { positiveInt, required, UsageError, userId } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';

/**
 * Grants credits and returns the balance after. With `eventId` the grant is made at most once: the
 * log refuses a second event with that id, and then nothing is granted and null is returned.
 */
export async function grantCredits(ctx: CliContext, userId: string, amount: number, eventId?: string): Promise<number | null> {
  try {
    // Under the ledger's lock after its conflicts: a busy user's ledger (submits, settlements) must not refuse a grant.
    const result = await handle(
      ctx.store,
      creditStreamId(userId),
      creditsLedgerFold,
      (state) => creditsDecider.decide({ type: 'GrantCredits', userId, amount, now: new Date() }, state).map((e) => ({ ...e, eventId })),
      { lockAfterConflicts: true },
    );
    return availableCredits(result.state);
  } catch (err) {
    if (eventId !== undefined && err instanceof DuplicateEventError) return null;
    throw err;
  }
}

/** An event id made from `purpose` (a UUID, version 8, RFC 9562): the same purpose names the same event, so the log takes it once. */
export function onceEventId(purpose: string): string {
  const h = createHash('sha256').update(purpose).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const creditsCommand: Command = {
  subcommands: { grant: { user: 'value', amount: 'value', once: 'value' }, balance: { user: 'value' } },
  usage: 'credits grant --user <id> --amount N [--once <token>] | credits balance --user <id>',
  run: credits,
};

async function credits(ctx: CliContext, [sub]: string[], options: Record<string, string>): Promise<void> {
  const user = userId(options);
  if (sub === 'grant') {
    const amount = positiveInt(required(options, 'amount'), 'amount');
    const once = options.once;
    if (once !== undefined && !/^\S{1,200}$/.test(once)) throw new UsageError('--once takes a token of 1 to 200 characters without spaces (e.g. an order id)');
    // With --once, running the command again (after a lost connection, say) grants nothing more.
    const balance = await grantCredits(ctx, user, amount, once === undefined ? undefined : onceEventId(`reelay credits grant:${user}:${once}`));
    if (balance !== null) {
      ctx.out(JSON.stringify({ userId: user, balance, granted: amount }));
      return;
    }
    console.error(`credits were granted with --once ${once} before: not granted again`);
    const { state } = await loadStreamState(ctx.store, creditStreamId(user), creditsLedgerFold);
    ctx.out(JSON.stringify({ userId: user, balance: availableCredits(state), granted: 0 }));
    return;
  }
  if (sub === 'balance') {
    const { state } = await loadStreamState(ctx.store, creditStreamId(user), creditsLedgerFold);
    ctx.out(JSON.stringify({ userId: user, balance: availableCredits(state), held: state.held, granted: state.granted, settled: state.settled, heldByJob: state.holds }));
    return;
  }
  throw new UsageError(creditsCommand.usage);
}
