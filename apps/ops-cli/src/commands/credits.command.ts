import { creditStreamId } from '@reelay/contracts';
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
    const result = await handle(ctx.store, creditStreamId(userId), creditsLedgerFold, (state) =>
      creditsDecider.decide({ type: 'GrantCredits', userId, amount, now: new Date() }, state).map((e) => ({ ...e, eventId })),
    );
    return availableCredits(result.state);
  } catch (err) {
    if (eventId !== undefined && err instanceof DuplicateEventError) return null;
    throw err;
  }
}

export const creditsCommand: Command = {
  subcommands: { grant: { user: 'value', amount: 'value' }, balance: { user: 'value' } },
  usage: 'credits grant --user <id> --amount N | credits balance --user <id>',
  run: credits,
};

async function credits(ctx: CliContext, [sub]: string[], options: Record<string, string>): Promise<void> {
  const user = userId(options);
  if (sub === 'grant') {
    const balance = await grantCredits(ctx, user, positiveInt(required(options, 'amount'), 'amount'));
    ctx.out(JSON.stringify({ userId: user, balance }));
    return;
  }
  if (sub === 'balance') {
    const { state } = await loadStreamState(ctx.store, creditStreamId(user), creditsLedgerFold);
    ctx.out(JSON.stringify({ userId: user, balance: availableCredits(state), held: state.held, granted: state.granted, settled: state.settled, heldByJob: state.holds }));
    return;
  }
  throw new UsageError(creditsCommand.usage);
}
