import { ListWebhookDeliveriesQuery, type WebhookDeliveriesReply } from '@reelay/contracts';
import type { NotificationDeps } from '../notification.deps';

/** `GET /v1/jobs/{id}/webhooks`, asked by the gateway (which checked that the user owns the job). */
export async function listWebhookDeliveries(deps: Pick<NotificationDeps, 'deliveries'>, payload: unknown): Promise<WebhookDeliveriesReply> {
  const query = ListWebhookDeliveriesQuery.parse(payload);
  return { ok: true, deliveries: await deps.deliveries.list(query.jobId, query.userId) };
}
