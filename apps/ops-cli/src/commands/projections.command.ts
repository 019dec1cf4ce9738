import type { CatchUpWait } from '@reelay/event-store';
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
  // Progress on stderr (stdout keeps the one JSON result), at most every 2 s; while the rebuild
  // cannot go on (every 2 s), what it waits for: most often a transaction left open somewhere.
  const progress = (applied: number, waiting?: CatchUpWait) => {
    if (!waiting && Date.now() - said < 2000) return;
    said = Date.now();
    const seconds = Math.round((said - started) / 1000);
    const stalled = waiting ? `; no progress for ${Math.round(waiting.stalledMs / 1000)} s, waiting for ${waiting.waitingFor}` : '';
    process.stderr.write(`${name}: ${applied} events applied, ${seconds} s${stalled}\n`);
  };
  // Resolves once the projection has reached the log's end as of the reset (a running gateway may
  // apply some batches itself); rejects (exit 1, naming what it waited for) after 5 minutes without progress.
  const events = await rebuild(ctx.store, progress);
  ctx.out(JSON.stringify({ projection: name, eventsApplied: events, caughtUp: true, seconds: (Date.now() - started) / 1000 }));
}
