import { jobIdFromStreamId, jobStreamId, metadataCausedBy, RecordedEvent } from '@reelay/contracts';
import type { DeadLetterStore, EventStore } from '@reelay/event-store';
import type { Logger } from '@reelay/service-kit';
import { CREDITS_CONSUMER } from '../intake.consumers';
import { settleCredits } from './settle-credits.handler';

export interface SettleDeadLetteredDeps {
  store: EventStore;
  now: () => Date;
  deadLetters: Pick<DeadLetterStore, 'list' | 'markReplayed'>;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Safety net for credits: a finished job whose event was dead-lettered on `intake-credits` (after
 * hundreds of failed deliveries, an outage of hours) would keep its hold, so the user's balance
 * stays short of it for good. Intake settles such a job again from the letter, as the delivery
 * would have (settling is idempotent), and marks the letter replayed. A letter that is not a job
 * event is left for an operator (`npm run reelay -- dead-letters list`); one whose settle fails
 * again is tried at the next sweep. Returns the jobs settled.
 */
export async function settleDeadLettered(deps: SettleDeadLetteredDeps, pageSize = 200): Promise<string[]> {
  const settled: string[] = [];
  // Paged past the letters left in place (not job events, or failing again), so they never hide newer ones.
  for (let page = await deps.deadLetters.list({ consumer: CREDITS_CONSUMER, limit: pageSize }); page.length; ) {
    for (const letter of page) {
      const event = RecordedEvent.safeParse(letter.payload);
      if (!event.success || !event.data.streamId.startsWith(jobStreamId(''))) continue;
      const jobId = jobIdFromStreamId(event.data.streamId);
      try {
        await settleCredits(deps, jobId, metadataCausedBy(event.data));
      } catch (err) {
        deps.logger.warn({ jobId, err: String(err) }, 'could not settle the credits of a dead-lettered job event; trying again at the next sweep');
        continue;
      }
      await deps.deadLetters.markReplayed(letter.id);
      settled.push(jobId);
    }
    page = page.length < pageSize ? [] : await deps.deadLetters.list({ consumer: CREDITS_CONSUMER, limit: pageSize, after: page.at(-1)!.id });
  }
  if (settled.length) deps.logger.warn({ jobIds: settled }, 'settled the credits of jobs whose end was dead-lettered on intake-credits');
  return settled;
}
