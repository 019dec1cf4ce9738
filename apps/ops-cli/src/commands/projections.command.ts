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
  const events = await REBUILDERS[name as keyof typeof REBUILDERS](ctx.store);
  ctx.out(JSON.stringify({ projection: name, eventsApplied: events, seconds: (Date.now() - started) / 1000 }));
}
