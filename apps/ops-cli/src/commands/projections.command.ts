import { JOB_VIEW_PROJECTION, rebuildJobView } from '@reelay/read-models';
import { UsageError } from '../args';
import type { CliContext } from '../context';

const REBUILDERS = { [JOB_VIEW_PROJECTION]: rebuildJobView } as const;

/** Rebuilds a read model from the whole event log. */
export async function projectionsCommand(ctx: CliContext, [sub, name]: string[]): Promise<void> {
  if (sub !== 'rebuild' || !name || !(name in REBUILDERS)) {
    throw new UsageError(`projections rebuild <${Object.keys(REBUILDERS).join('|')}>`);
  }
  const started = Date.now();
  let said = started;
  // Progress on stderr (stdout keeps the one JSON result), at most every 2 s.
  const progress = (applied: number) => {
    if (Date.now() - said < 2000) return;
    said = Date.now();
    process.stderr.write(`${name}: ${applied} events applied, ${Math.round((said - started) / 1000)} s\n`);
  };
  // Resolves once the projection has reached the log's end; a running gateway may apply some batches itself.
  const events = await REBUILDERS[name as keyof typeof REBUILDERS](ctx.store, progress);
  ctx.out(JSON.stringify({ projection: name, eventsApplied: events, caughtUp: true, seconds: (Date.now() - started) / 1000 }));
}
