import { jobIdFromStreamId, liveJobSubject, type RecordedEvent } from '@reelay/contracts';
import { publishLive } from '@reelay/messaging';
import { toPublicJob } from '@reelay/job-domain';
import type { NotificationDeps } from '../notification.deps';
import { foldJobHistory, statusChanged, visibleChange, type JobHistory } from '../shared/job-history';
import { webhookBody, webhookEventType } from './webhook-body';

/**
 * Turns one job event into what users see: a live push when the status or progress changed, and
 * webhook deliveries for status changes. Idempotent: a redelivered event pushes the same version
 * again (the gateway drops versions it sent) and records nothing new. The deliveries of every
 * status change up to this event are recorded (not only this one), so a status change whose own
 * event is still being redelivered cannot be overtaken by a later one.
 */
export async function notifyJobEvent(deps: NotificationDeps, event: RecordedEvent): Promise<void> {
  const jobId = jobIdFromStreamId(event.streamId);
  const history = foldJobHistory(await deps.store.readStream(event.streamId), event.streamVersion);
  if (history.version !== event.streamVersion) throw new Error(`job stream ${event.streamId} is behind event version ${event.streamVersion}`);
  const { before, after, version } = history;
  if (!after.exists) return;

  if (visibleChange(before, after)) {
    publishLive(deps.nc, liveJobSubject(deps.prefix, jobId), { version, job: toPublicJob(after, version) });
    deps.metrics?.livePushes.inc();
  }

  if (statusChanged(before, after)) countStatusChange(deps, history);

  if (statusChanged(before, after) && after.webhookUrl) {
    const url = after.webhookUrl;
    await deps.deliveries.record(
      history.statusChanges.map((c) => ({ jobId, version: c.version, userId: after.userId, url, eventType: webhookEventType(c.job), body: webhookBody(c.job) })),
    );
    deps.deliverer.kick(jobId);
  }
}

/**
 * One job status change: counted by the status entered, and the status left timed from the event
 * that entered it. A redelivered event counts again (metrics are at-least-once, like the bus).
 */
function countStatusChange(deps: NotificationDeps, history: JobHistory): void {
  if (!deps.metrics) return;
  const entered = history.statusChanges.at(-1);
  const left = history.statusChanges.at(-2);
  if (!entered) return;
  deps.metrics.jobTransitions.inc({ status: entered.status });
  if (left) {
    const seconds = (Date.parse(entered.at) - Date.parse(left.at)) / 1000;
    if (seconds >= 0) deps.metrics.statusDuration.observe({ status: left.status }, seconds);
  }
}
