import { jobIdFromStreamId, liveJobSubject, type RecordedEvent } from '@reelay/contracts';
import { publishLive } from '@reelay/messaging';
import { toPublicJob } from '@reelay/job-domain';
import type { NotificationDeps } from '../notification.deps';
import { foldJobHistory, statusChanged, visibleChange } from '../shared/job-history';
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

  if (statusChanged(before, after) && after.webhookUrl) {
    const url = after.webhookUrl;
    await deps.deliveries.record(
      history.statusChanges.map((c) => ({ jobId, version: c.version, userId: after.userId, url, eventType: webhookEventType(c.job), body: webhookBody(c.job) })),
    );
    deps.deliverer.kick(jobId);
  }
}
