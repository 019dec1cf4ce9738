import { parseArgs, UsageError } from './args';
import type { Command } from './command';
import { openContext, type CliContext } from './context';
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
  credits grant --user <id> --amount N [--once <token>]   (with --once, granted once however often it is run)
  credits balance --user <id>          (balance, held: the total held for jobs in flight, heldByJob)
  jobs history <jobId>
  jobs list --status <status> [--older-than 30m] [--user <id>] [--limit N]   (oldest change first)
  projections rebuild job_view
  dead-letters list [--consumer C] [--all]
  dead-letters replay <id> | --all [--consumer C]
  webhooks list <jobId> [--attempts]     (what the job's webhook endpoint was sent, each try)
  webhooks redeliver <jobId>             (send the deliveries given up on once more)
  migrate

Reads DATABASE_URL and NATS_URL (defaults: local PostgreSQL database "reelay", local NATS).
Exit codes: 0 done; 1 failed, or nothing matched (keys revoke <key>, dead-letters replay <id>);
2 bad usage (an unknown command or option, a missing or bad value); no job, key, credit or letter is written then.`;

const COMMANDS = new Map<string, Command>([
  ['keys', keysCommand],
  ['credits', creditsCommand],
  ['jobs', jobsCommand],
  ['dead-letters', deadLettersCommand],
  ['projections', projectionsCommand],
  ['webhooks', webhooksCommand],
]);

/** The command to run, its arguments checked against what it takes before the database is opened. */
function commandOf(argv: string[]): (ctx: CliContext) => Promise<void> {
  const [name, sub, ...rest] = argv;
  if (name === 'migrate') {
    if (parseArgs(argv.slice(1), {}).positional.length) throw new UsageError('migrate takes no arguments');
    return async (ctx) => ctx.out('migrations are up to date');
  }
  const command = COMMANDS.get(name);
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${USAGE}`);
  if (sub === undefined || !Object.hasOwn(command.subcommands, sub)) throw new UsageError(command.usage);
  const { positional, options } = parseArgs(rest, command.subcommands[sub]);
  return (ctx) => command.run(ctx, [sub, ...positional], options);
}

async function main(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === 'help' || argv.includes('--help')) {
    console.log(USAGE);
    // Asked for (`help`, `--help`, the image's default command): success; nothing asked: a usage error.
    return argv.length ? 0 : 2;
  }
  let run: (ctx: CliContext) => Promise<void>;
  try {
    run = commandOf(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    return 2;
  }
  const ctx = await openContext((line) => console.log(line));
  try {
    await run(ctx);
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
