import { randomUUID } from 'node:crypto';
import { TestWebhookCommand, type WebhookTestReply } from '@reelay/contracts';
import { webhookId } from '../deliver-webhooks/send-webhook';
import type { NotificationDeps } from '../notification.deps';

/**
 * `POST /v1/webhooks/test`: one signed `video.job.test` event to the URL, sent as the user's
 * webhooks are (their secret, the same headers and address checks, no redirects), answered with
 * what the receiver did. Nothing is recorded or retried: it is for setting up an endpoint.
 */
export async function testWebhook(deps: Pick<NotificationDeps, 'deliverer'>, payload: unknown, now = new Date()): Promise<WebhookTestReply> {
  const cmd = TestWebhookCommand.parse(payload);
  const jobId = `test_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify({ type: 'video.job.test', data: { message: 'A test event from reelay: your endpoint is reachable and can check our signature.', sentAt: now.toISOString() } });
  const delivery = { jobId, version: 0, userId: cmd.userId, url: cmd.url, eventType: 'video.job.test', body, attempt: 1, attemptId: '', leaseToken: '' };
  const result = await deps.deliverer.sendOnce(delivery);
  return {
    ok: true,
    result: {
      object: 'webhook_test',
      delivered: result.outcome === 'delivered',
      outcome: result.outcome,
      httpStatus: result.httpStatus,
      error: result.error,
      durationMs: Math.round(result.durationMs),
      webhookId: webhookId(jobId, 0),
    },
  };
}
