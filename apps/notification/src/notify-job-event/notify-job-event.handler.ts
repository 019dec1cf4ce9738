import { jobIdFromStreamId, liveJobSubject, type RecordedEvent } from '@reelay/contracts';
import { publishLive } from '@reelay/messaging';
import { toPublicJob } from '@reelay/job-domain';
import type { NotificationDeps } from '../notification.deps';

/** What a job event's handling uses: the signing secrets are the sender's business. */
type NotifyDeps = Omit<NotificationDeps, 'secrets'>;
import { snapshotOf, statusChanged, visibleChange, type JobHistory } from '../shared/job-history';
import { jobHistoryAt } from './job-history-at';
import { webhookBody } from './webhook-body';

/**
 * Turns one job event into what users see: a live push when the status or progress changed, and
 * webhook deliveries for status changes, output deletions and a canceled job's cancellation updates ("notices"). Idempotent: a redelivered event pushes the same version
 * again (the gateway drops versions it sent) and records nothing new.
 *
 * Every notice up to this event that may not be recorded yet is recorded in one statement
 * (not only this event's), so a notice whose own event is still being redelivered cannot be
 * overtaken by a later one. "May not be recorded yet" = every change the history folded, i.e. after
 * the cached snapshot it started from (the whole stream without one). A snapshot is cached only
 * once its handler's deliveries are committed, and that handler recorded every change it folded,
 * even when its own event changed no status (it may have folded an earlier event's change that
 * another handler is still recording), so by induction every change up to a cached version is in
 * the table.
 */
export function notifyJobEvent(deps: NotifyDeps, event: RecordedEvent): Promise<void> {
  return deps.jobs.track(event.streamId, event.streamVersion, () => notify(deps, event));
}

async function notify(deps: NotifyDeps, event: RecordedEvent): Promise<void> {
  const jobId = jobIdFromStreamId(event.streamId);
  const history = await jobHistoryAt(deps.store, deps.jobs, event);
  const { before, after, version } = history;
  if (!after.exists) return;

  if (visibleChange(before, after)) {
    await publishLive(deps.nc, liveJobSubject(deps.prefix, jobId), { version, job: toPublicJob(after) }).then(
      () => deps.metrics?.livePushes.inc(),
      (err: unknown) => deps.logger.warn({ err, jobId }, 'live push not sent; connected clients catch up from the log'),
    );
  }

  if (statusChanged(before, after)) countStatusChange(deps, history);

  // Only the event types the submit asked for, when it named some, and none the history may have forgotten.
  const now = Date.now();
  const notices = history.notices.filter((n) => (!after.webhookEvents || after.webhookEvents.includes(n.type)) && !deps.history?.mayHaveForgotten(n.at, now));
  if (notices.length > 0 && after.webhookUrl) {
    const url = after.webhookUrl;
    await deps.deliveries.record(notices.map((n) => ({ jobId, version: n.version, userId: after.userId, url, eventType: n.type, body: webhookBody(n) })));
    deps.deliverer.kick(jobId);
  }
  deps.jobs.remember(event.streamId, snapshotOf(history));
}

/**
 * One job status change: counted by the status entered, and the status left timed from the event
 * that entered it. A redelivered event counts again (metrics are at-least-once, like the bus).
 */
function countStatusChange(deps: NotifyDeps, history: JobHistory): void {
  if (!deps.metrics) return;
  const entered = history.statusChanges.at(-1);
  const left = history.statusChanges.at(-2) ?? history.priorChange;
  if (!entered) return;
  deps.metrics.jobTransitions.inc({ status: entered.status });
  if (left) {
    const seconds = (Date.parse(entered.at) - Date.parse(left.at)) / 1000;
    if (seconds >= 0) deps.metrics.statusDuration.observe({ status: left.status }, seconds);
  }
}
