import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks headers for `body` (OpenAI's project webhooks sign this way). */
export function signWebhook(secret: string, body: string): Record<string, string> {
  const id = `msg_${randomBytes(12).toString('hex')}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
}
