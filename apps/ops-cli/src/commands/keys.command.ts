import { API_KEY_ID_PATTERN, API_KEY_PATTERN, API_KEY_SCOPES, createApiKey, hashApiKey, listApiKeys, revokeApiKey, revokeApiKeys, type ApiKeyScope } from '@reelay/accounts';
import { durationSeconds, positiveInt, required, UsageError, userId } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';
import { grantCredits, onceEventId } from './credits.command';

const REVOKE_USAGE = 'keys revoke <key> | keys revoke --id <key id> | keys revoke --user <id> (every active key of the user)';

export const keysCommand: Command = {
  subcommands: {
    create: { user: 'value', label: 'value', credits: 'value', scope: 'value', 'expires-in': 'value', key: 'value' },
    list: { user: 'value' },
    revoke: { id: 'value', user: 'value' },
  },
  usage: `keys create --user <id> [--label L] [--credits N] [--scope full|read] [--expires-in 90d] [--key rly_...] | keys list --user <id> | ${REVOKE_USAGE}`,
  run: keys,
};

async function keys(ctx: CliContext, [sub, arg]: string[], options: Record<string, string>): Promise<void> {
  if (sub === 'create') return createKey(ctx, options);
  if (sub === 'list') {
    const keys = await listApiKeys(ctx.ds, userId(options));
    for (const k of keys) ctx.out(JSON.stringify(k));
    if (!keys.length) ctx.out('no keys');
    return;
  }
  if (sub === 'revoke') {
    if (arg) {
      if (!(await revokeApiKey(ctx.ds, arg))) throw new Error('no active key matched');
      ctx.out('revoked');
      return;
    }
    if (!options.id && !options.user) throw new UsageError(REVOKE_USAGE);
    const id = options.id ? required(options, 'id') : null;
    if (id !== null && !API_KEY_ID_PATTERN.test(id)) throw new UsageError('--id takes a key id as keys list shows it (12 hexadecimal characters)');
    const revoked = await revokeApiKeys(ctx.ds, id !== null ? { id } : { userId: userId(options) });
    ctx.out(JSON.stringify({ revoked }));
    return;
  }
  throw new UsageError(keysCommand.usage);
}

/** Every argument is checked before the key is stored: a key made by a refused command would stay active, unreported. */
async function createKey(ctx: CliContext, options: Record<string, string>): Promise<void> {
  const user = userId(options);
  const scope = (options.scope ?? 'full') as ApiKeyScope;
  if (!API_KEY_SCOPES.includes(scope)) throw new UsageError(`--scope is one of ${API_KEY_SCOPES.join(', ')} (read: GET requests and job tokens only)`);
  const expiresAt = options['expires-in'] ? new Date(Date.now() + durationSeconds(options['expires-in'], 'expires-in') * 1000) : undefined;
  const credits = options.credits ? positiveInt(options.credits, 'credits') : 0;
  if (options.key !== undefined && !API_KEY_PATTERN.test(options.key)) throw new UsageError('--key takes rly_ followed by 32 letters or digits');
  const created = await createApiKey(ctx.ds, user, options.label ?? '', options.key, { scope, expiresAt });
  const report = (creditsGranted: number) =>
    ctx.out(JSON.stringify({ key: created.key, id: created.id, userId: created.userId, label: created.label, scope: created.scope, expiresAt: created.expiresAt, creditsGranted }));
  let granted: boolean;
  try {
    // Once per key: a repeat of the same --key (a no-op for the key) finds its grant in the log.
    granted = credits > 0 && (await grantCredits(ctx, user, credits, grantEventId(created.key))) !== null;
  } catch (err) {
    // The key is stored and works: unprinted, a generated key would be lost to the operator.
    report(0);
    throw new Error(`the key above was created, but granting its ${credits} credits failed (${err instanceof Error ? err.message : String(err)}); run keys create again with --key and the key above to grant them, once`);
  }
  if (credits > 0 && !granted) console.error('credits were granted with this key before: not granted again');
  report(granted ? credits : 0);
}

/** The event id of a key's credit grant, from the key's hash, so the key cannot be read from it. */
function grantEventId(key: string): string {
  return onceEventId(`reelay key credits:${hashApiKey(key)}`);
}
