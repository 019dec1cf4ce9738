import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookSecretFor } from '@reelay/accounts';
import type { HostResolver } from '@reelay/net-guard';
import { verifyStandardWebhook } from '@reelay/providers';
import { sendWebhook } from './send-webhook';
import type { ClaimedDelivery } from './webhook-delivery-store';

/**
 * A webhook host is resolved again at every attempt: a name that pointed at a public address when
 * the job was submitted and points at a private one now (DNS rebinding, a record changed) is refused
 * for good, and nothing is sent to that address.
 */
describe('sendWebhook: the receiver host resolved at each attempt (real HTTP)', () => {
  let receiver: Server;
  let port: number;
  let hits = 0;
  let last: { headers: Record<string, string | string[] | undefined>; body: string } | null = null;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      hits++;
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        last = { headers: req.headers, body };
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  const delivery = (url: string): ClaimedDelivery => ({
    jobId: 'job_01JZZZZZZZZZZZZZZZZZZZZZZZ', version: 2, userId: 'user-webhook-dns', url, eventType: 'video.job.running',
    body: '{"type":"video.job.running"}', attempt: 1, attemptId: 'a1', leaseToken: 't1',
  });
  const send = (url: string, resolver: HostResolver, allowHosts: string[] = []) =>
    sendWebhook(delivery(url), { secrets: async (userId) => [webhookSecretFor('webhook-master-secret-for-tests', userId)], timeoutMs: 2000, allowHosts, resolver });

  it.each([
    ['loopback', '127.0.0.1', 4],
    ['a private address', '10.0.0.7', 4],
    ['link-local metadata', '169.254.169.254', 4],
    ['IPv6 loopback', '::1', 6],
    ['an IPv4-mapped loopback', '::ffff:127.0.0.1', 6],
  ] as const)('refuses for good a name that resolves to %s now', async (_what, address, family) => {
    // Port 8080 is one a webhook may use; were the address let through, the POST would go to this machine.
    const result = await send(`http://hooks.customer.example:8080/in`, async () => [{ address, family }]);
    expect(result).toMatchObject({ outcome: 'refused', permanent: true, error: 'refused: private_address' });
  });

  it('refuses a name with one private address among public ones (the connection could be made to any)', async () => {
    const result = await send(`http://hooks.customer.example:8080/in`, async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }]);
    expect(result).toMatchObject({ outcome: 'refused', permanent: true });
  });

  it('delivers to the same receiver when it is allowed by host:port (the dev escape hatch), so the refusals above are the address rule', async () => {
    const before = hits;
    const result = await send(`http://127.0.0.1:${port}/in`, async () => [{ address: '127.0.0.1', family: 4 }], [`127.0.0.1:${port}`]);
    expect(result).toMatchObject({ outcome: 'delivered', httpStatus: 204 });
    expect(hits).toBe(before + 1);
  });

  it('during a rotation signs under both secrets, so a receiver holding either accepts the webhook', async () => {
    const [current, previous, other] = ['webhook-master-secret-new-one', 'webhook-master-secret-old-one', 'webhook-master-secret-unrelated'];
    const resolver: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const secrets = async (userId: string) => [webhookSecretFor(current, userId), webhookSecretFor(previous, userId)];
    const result = await sendWebhook(delivery(`http://127.0.0.1:${port}/in`), { secrets, timeoutMs: 2000, allowHosts: [`127.0.0.1:${port}`], resolver });
    expect(result).toMatchObject({ outcome: 'delivered' });
    const { headers, body } = last!;
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    const accepts = (master: string) => verifyStandardWebhook(webhookSecretFor(master, 'user-webhook-dns'), headers, body);
    expect([accepts(current), accepts(previous), accepts(other)]).toEqual([true, true, false]);
  });

  it('sends nothing once its lease may run out before the receiver could answer (a slow secrets read), so a later version sent meanwhile by another claimer is never overtaken', async () => {
    const before = hits;
    const resolver: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const slowSecrets = async (userId: string) => {
      await new Promise((r) => setTimeout(r, 300));
      return [webhookSecretFor('webhook-master-secret-for-tests', userId)];
    };
    const opts = { secrets: slowSecrets, timeoutMs: 2000, allowHosts: [`127.0.0.1:${port}`], resolver };
    // Claimed with a lease of 2,600 ms: after the 300 ms read, 2,300 ms are left, not the 2,500 ms a send may need.
    const late = await sendWebhook({ ...delivery(`http://127.0.0.1:${port}/in`), leaseEndsBy: performance.now() + 2600 }, opts);
    expect(late).toMatchObject({ outcome: 'network_error', permanent: false, notSent: true, error: expect.stringMatching(/^not sent: /) });
    expect(hits).toBe(before);
    const inTime = await sendWebhook({ ...delivery(`http://127.0.0.1:${port}/in`), leaseEndsBy: performance.now() + 5000 }, opts);
    expect(inTime).toMatchObject({ outcome: 'delivered' });
    expect(hits).toBe(before + 1);
  });

  it('sends nothing when the signing secrets cannot be read, and fails the attempt as one to try again', async () => {
    const before = hits;
    const resolver: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const secrets = async () => Promise.reject(new Error('connection terminated'));
    const result = await sendWebhook(delivery(`http://127.0.0.1:${port}/in`), { secrets, timeoutMs: 2000, allowHosts: [`127.0.0.1:${port}`], resolver });
    expect(result).toMatchObject({ outcome: 'network_error', permanent: false, notSent: true, error: 'not sent: the signing secret could not be read' });
    expect(hits).toBe(before);
  });
});
