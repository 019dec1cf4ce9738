import { jobStreamId } from '@reelay/contracts';
import { UsageError } from '../args';
import type { CliContext } from '../context';

/** A job's full event history, internal details included (operators only). */
export async function jobsCommand(ctx: CliContext, [sub, jobId]: string[]): Promise<void> {
  if (sub !== 'history' || !jobId) throw new UsageError('jobs history <jobId>');
  const events = await ctx.store.readStream(jobStreamId(jobId));
  if (!events.length) throw new UsageError(`no job ${jobId}`);
  for (const e of events) {
    ctx.out(JSON.stringify({ version: e.streamVersion, type: e.type, recordedAt: e.recordedAt, data: e.data, metadata: e.metadata }));
  }
}
