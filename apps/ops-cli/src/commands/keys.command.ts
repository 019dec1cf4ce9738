import { createApiKey, revokeApiKey } from '@reelay/accounts';
import { positiveInt, required, UsageError } from '../args';
import type { CliContext } from '../context';
import { grantCredits } from './credits.command';

export async function keysCommand(ctx: CliContext, [sub, arg]: string[], options: Record<string, string>): Promise<void> {
  if (sub === 'create') {
    const userId = required(options, 'user');
    const created = await createApiKey(ctx.ds, userId, options.label ?? '', options.key);
    if (options.credits) await grantCredits(ctx, userId, positiveInt(options.credits, 'credits'));
    ctx.out(JSON.stringify({ key: created.key, userId: created.userId, label: created.label, creditsGranted: options.credits ? Number(options.credits) : 0 }));
    return;
  }
  if (sub === 'revoke') {
    if (!arg) throw new UsageError('keys revoke <key>');
    ctx.out((await revokeApiKey(ctx.ds, arg)) ? 'revoked' : 'no active key matched');
    return;
  }
  throw new UsageError('keys create --user <id> [--label L] [--credits N] [--key rly_...] | keys revoke <key>');
}
