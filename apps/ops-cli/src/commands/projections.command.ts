import { JOB_VIEW_PROJECTION, rebuildJobView } from '@reelay/read-models';
import { UsageError } from '../args';
import type { Command } from '../command';
import type { CliContext } from '../context';

const REBUILDERS = new Map([[JOB_VIEW_PROJECTION, rebuildJobView]]);
const USAGE = `projections rebuild <${[...REBUILDERS.keys()].join('|')}>`;

export const projectionsCommand: Command = { subcommands: { rebuild: {} }, usage: USAGE, run: projections };

/** Rebuilds a read model from the whole event log. */
async function projections(ctx: CliContext, [sub, name]: string[]): Promise<void> {
  const rebuild = sub === 'rebuild' ? REBUILDERS.get(name) : undefined;
  if (!rebuild) throw new UsageError(USAGE);
  const started = Date.now();
  let said = started;
  // Progress on stderr (stdout keeps the one JSON result), at most every 2 s.
  const progress = (applied: number) => {
    if (Date.now() - said < 2000) return;
    said = Date.now();
    process.stderr.write(`${name}: ${applied} events applied, ${Math.round((said - started) / 1000)} s\n`);
  };
  // Resolves once the projection has reached the log's end; a running gateway may apply some batches itself.
  const events = await rebuild(ctx.store, progress);
  ctx.out(JSON.stringify({ projection: name, eventsApplied: events, caughtUp: true, seconds: (Date.now() - started) / 1000 }));
}
