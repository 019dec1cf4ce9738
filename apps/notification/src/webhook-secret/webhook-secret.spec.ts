import { createHmac } from 'node:crypto';
import { deriveWebhookSecret } from './webhook-secret';

describe('deriveWebhookSecret', () => {
  it('is whsec_ + base64 HMAC-SHA256(master, userId): a 32-byte key, stable and per user', () => {
    const s = deriveWebhookSecret('master-secret-0123456789', 'alice');
    expect(s).toBe(`whsec_${createHmac('sha256', 'master-secret-0123456789').update('alice').digest('base64')}`);
    expect(Buffer.from(s.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(deriveWebhookSecret('master-secret-0123456789', 'alice')).toBe(s);
    expect(deriveWebhookSecret('master-secret-0123456789', 'bob')).not.toBe(s);
    expect(deriveWebhookSecret('another-master-secret-xx', 'alice')).not.toBe(s);
  });
});
