import { RotateWebhookSecretCommand, WebhookSecretQuery, type WebhookSecretReply } from '@reelay/contracts';
import type { NotificationDeps } from '../notification.deps';

/** `GET /v1/webhooks/secret`: the secret the user's webhooks are signed with now. */
export async function showWebhookSecret(deps: Pick<NotificationDeps, 'secrets'>, payload: unknown): Promise<WebhookSecretReply> {
  const { userId } = WebhookSecretQuery.parse(payload);
  return { ok: true, secret: await deps.secrets.show(userId) };
}

/** `POST /v1/webhooks/secret/rotate`: a new secret, the old one signing too for the time asked. */
export async function rotateWebhookSecret(deps: Pick<NotificationDeps, 'secrets' | 'logger'>, payload: unknown): Promise<WebhookSecretReply> {
  const cmd = RotateWebhookSecretCommand.parse(payload);
  const secret = await deps.secrets.rotate(cmd.userId, cmd.keepPreviousForSeconds * 1000);
  deps.logger.info({ userId: cmd.userId, generation: secret.generation, previousSecretValidUntil: secret.previousSecretValidUntil }, 'webhook secret rotated');
  return { ok: true, secret };
}
