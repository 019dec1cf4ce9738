import { API_KEY_ID_PATTERN, API_KEY_SCOPES, createApiKey, listApiKeys, revokeApiKey, revokeApiKeys, type ApiKeyScope } from '@reelay/accounts';
import { durationSeconds, positiveInt, required, UsageError } from '../args';
import type { CliContext } from '../context';
import { grantCredits } from './credits.command';

export async function keysCommand(ctx: CliContext, [sub, arg]: string[], options: Record<string, string>): Promise<void> {
  if (sub === 'create') {
    const userId = required(options, 'user');
    const scope = (options.scope ?? 'full') as ApiKeyScope;
    if (!API_KEY_SCOPES.includes(scope)) throw new UsageError(`--scope is one of ${API_KEY_SCOPES.join(', ')} (read: GET requests and job tokens only)`);
    const expiresAt = options['expires-in'] ? new Date(Date.now() + durationSeconds(options['expires-in'], 'expires-in') * 1000) : undefined;
    const created = await createApiKey(ctx.ds, userId, options.label ?? '', options.key, { scope, expiresAt });
    if (options.credits) await grantCredits(ctx, userId, positiveInt(options.credits, 'credits'));
    ctx.out(JSON.stringify({ key: created.key, id: created.id, userId: created.userId, label: created.label, scope: created.scope, expiresAt: created.expiresAt, creditsGranted: options.credits ? Number(options.credits) : 0 }));
    return;
  }
  if (sub === 'list') {
    const keys = await listApiKeys(ctx.ds, required(options, 'user'));
    for (const k of keys) ctx.out(JSON.stringify(k));
    if (!keys.length) ctx.out('no keys');
    return;
  }
  if (sub === 'revoke') {
    if (arg) {
      ctx.out((await revokeApiKey(ctx.ds, arg)) ? 'revoked' : 'no active key matched');
      return;
    }
    if (!options.id && !options.user) throw new UsageError(REVOKE_USAGE);
    const id = options.id ? required(options, 'id') : null;
    if (id !== null && !API_KEY_ID_PATTERN.test(id)) throw new UsageError('--id takes a key id as keys list shows it (12 hexadecimal characters)');
    const revoked = await revokeApiKeys(ctx.ds, id !== null ? { id } : { userId: required(options, 'user') });
    ctx.out(JSON.stringify({ revoked }));
    return;
  }
  throw new UsageError(`keys create --user <id> [--label L] [--credits N] [--scope full|read] [--expires-in 90d] [--key rly_...] | keys list --user <id> | ${REVOKE_USAGE}`);
}

const REVOKE_USAGE = 'keys revoke <key> | keys revoke --id <key id> | keys revoke --user <id> (every active key of the user)';
