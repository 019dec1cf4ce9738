import { creditStreamId } from '@reelay/contracts';
import { handle, loadStreamState } from '@reelay/event-store';
import { availableCredits, creditsDecider, creditsLedgerFold } from '@reelay/job-domain';
import { positiveInt, required, UsageError } from '../args';
import type { CliContext } from '../context';

export async function grantCredits(ctx: CliContext, userId: string, amount: number): Promise<number> {
  const result = await handle(ctx.store, creditStreamId(userId), creditsLedgerFold, (state) =>
    creditsDecider.decide({ type: 'GrantCredits', userId, amount, now: new Date() }, state),
  );
  return availableCredits(result.state);
}

export async function creditsCommand(ctx: CliContext, [sub]: string[], options: Record<string, string>): Promise<void> {
  const userId = required(options, 'user');
  if (sub === 'grant') {
    const balance = await grantCredits(ctx, userId, positiveInt(required(options, 'amount'), 'amount'));
    ctx.out(JSON.stringify({ userId, balance }));
    return;
  }
  if (sub === 'balance') {
    const { state } = await loadStreamState(ctx.store, creditStreamId(userId), creditsLedgerFold);
    ctx.out(JSON.stringify({ userId, balance: availableCredits(state), held: state.holds, granted: state.granted, settled: state.settled }));
    return;
  }
  throw new UsageError('credits grant --user <id> --amount N | credits balance --user <id>');
}
