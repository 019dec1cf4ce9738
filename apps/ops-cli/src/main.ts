import { parseArgs, UsageError } from './args';
import { openContext } from './context';
import { creditsCommand } from './commands/credits.command';
import { deadLettersCommand } from './commands/dead-letters.command';
import { jobsCommand } from './commands/jobs.command';
import { keysCommand } from './commands/keys.command';
import { projectionsCommand } from './commands/projections.command';
import { webhooksCommand } from './commands/webhooks.command';

const USAGE = `reelay operator CLI (npm run reelay -- <command>)

  keys create --user <id> [--label L] [--credits N] [--scope full|read] [--expires-in 90d] [--key rly_...]
  keys list --user <id>                  (ids, labels, scopes, dates; never the keys)
  keys revoke <key> | --id <key id> | --user <id>
  credits grant --user <id> --amount N
  credits balance --user <id>
  jobs history <jobId>
  jobs list --status <status> [--older-than 30m] [--user <id>] [--limit N]   (oldest change first)
  projections rebuild job_view
  dead-letters list [--consumer C] [--all]
  dead-letters replay <id> | --all [--consumer C]
  webhooks list <jobId> [--attempts]     (what the job's webhook endpoint was sent, each try)
  webhooks redeliver <jobId>             (send the deliveries given up on once more)
  migrate

Reads DATABASE_URL and NATS_URL (defaults: local PostgreSQL database "reelay", local NATS).`;

const COMMANDS = { keys: keysCommand, credits: creditsCommand, jobs: jobsCommand, 'dead-letters': deadLettersCommand, projections: projectionsCommand, webhooks: webhooksCommand } as const;

async function main(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv);
  const [name, ...rest] = positional;
  if (!name || name === 'help' || options.help) {
    console.log(USAGE);
    // Asked for (`help`, `--help`, the image's default command): success; nothing asked: a usage error.
    return name || options.help ? 0 : 2;
  }
  if (name !== 'migrate' && !(name in COMMANDS)) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const ctx = await openContext((line) => console.log(line));
  try {
    if (name === 'migrate') ctx.out('migrations are up to date');
    else await COMMANDS[name as keyof typeof COMMANDS](ctx, rest, options);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  } finally {
    await ctx.store.snapshots.settled();
    await ctx.ds.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`reelay: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
