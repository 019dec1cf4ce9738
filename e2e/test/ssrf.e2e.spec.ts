import { startStack, type Stack } from '@reelay/testing';
import { Client } from 'pg';
import { apiClient, isTerminalJob, type ApiClient } from './support/api-client';
import { recordingServer, type RecordingServer } from './support/local-servers';
import { signedWith } from './support/webhook-signature';

// The SSRF matrix through the real pipeline: reference-image URLs (fetched by intake) and webhook
// URLs (posted by notification) that point inside. None is allow-listed; only a redirecting server
// (the first hop) and the control receiver are. A canary on port 80 of every local address counts
// any request that gets through: it must stay at zero.

let stack: Stack;
let db: Client;
let alice: ApiClient;
let canary: RecordingServer;
let redirector: RecordingServer;
let receiver: RecordingServer;
/** The receiver's /down-for-now endpoint answers 503 until a test brings it back. */
let downForNow = true;

// Port 80 so that the port rule (80, 443, 8080, 8443) lets these through and the address rule is what refuses them.
const INTERNAL: [string, string][] = [
  ['loopback v4', 'http://127.0.0.1/'],
  ['loopback v4, another address', 'http://127.0.0.7/'],
  ['loopback v6', 'http://[::1]/'],
  ['v4-mapped loopback v6', 'http://[::ffff:127.0.0.1]/'],
  ['v4-mapped loopback v6, hex', 'http://[::ffff:7f00:1]/'],
  ['unspecified v4 (reaches the local host on Linux)', 'http://0.0.0.0/'],
  ['unspecified v4, short', 'http://0/'],
  ['unspecified v6', 'http://[::]/'],
  ['private 10/8', 'http://10.0.0.1/'],
  ['private 172.16/12', 'http://172.16.5.4/'],
  ['private 192.168/16', 'http://192.168.1.1/'],
  ['carrier-grade NAT (Alibaba metadata)', 'http://100.100.100.200/'],
  ['carrier-grade NAT 100.64/10', 'http://100.64.1.1/'],
  ['link-local v4, not metadata', 'http://169.254.1.1/'],
  ['link-local v4, cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local v6', 'http://[fe80::1]/'],
  ['unique-local v6', 'http://[fd00::1]/'],
  ['unique-local v6, fc00::/8', 'http://[fc00::1]/'],
  ['AWS metadata v6', 'http://[fd00:ec2::254]/'],
  ['metadata host name', 'http://metadata.google.internal/computeMetadata/v1/'],
  ['decimal loopback', 'http://2130706433/'],
  ['octal loopback', 'http://0177.0.0.1/'],
  ['hex loopback', 'http://0x7f.0.0.1/'],
  ['hex loopback, short', 'http://0x7f.1/'],
  ['hex loopback, one number', 'http://0x7f000001/'],
  ['short loopback', 'http://127.1/'],
  ['decimal metadata', 'http://2852039166/'],
  ['name resolving to loopback', 'http://localhost/'],
  ['name resolving to loopback, mixed case', 'http://LocalHost/'],
];
const REDIRECTED = [
  'http://127.0.0.1/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data/', 'http://localhost/', 'http://2130706433/',
  'http://10.0.0.1/', 'http://0.0.0.0/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/', 'http://[fd00:ec2::254]/',
];

beforeAll(async () => {
  // Dual-stack on port 80: takes connections to every loopback address, v4 and v6.
  canary = await recordingServer(() => ({ status: 200, headers: { 'content-type': 'image/png' }, body: 'internal secret' }), { port: 80, host: '::' });
  redirector = await recordingServer((req) => ({ status: 302, headers: { location: decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/') } }));
  receiver = await recordingServer((req) => (downForNow && req.url === '/down-for-now' ? { status: 503 } : { status: 204 }));
  stack = await startStack({
    label: 'ssrf',
    env: {
      // Luma's ray-2: Runway's models take https image links only, and these test servers speak http.
      PROVIDERS_ENABLED: 'luma',
      OUTBOUND_ALLOW_HOSTS: `${redirector.host},${receiver.host}`,
      WEBHOOK_MAX_ATTEMPTS: '2',
      WEBHOOK_TIMEOUT_MS: '3000',
      ASSET_FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_BURST: '1000',
    },
  });
  alice = apiClient(stack.gateway.url, stack.createUser('alice', 1_000_000));
  db = new Client({ connectionString: stack.db.url });
  await db.connect();
}, 120_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
  await Promise.all([canary, redirector, receiver].map((s) => s?.close()));
});

const job = (extra: Record<string, unknown>) => ({ model: 'ray-2', prompt: 'a harbour at dawn [sim:success_after=1]', aspectRatio: '16:9', durationSeconds: 5, ...extra });
const redirectTo = (target: string) => `http://${redirector.host}/r?to=${encodeURIComponent(target)}`;

async function failureDetail(jobId: string): Promise<string> {
  const rows = await db.query(`SELECT data->>'detail' AS detail FROM events WHERE stream_id = $1 AND type = 'JobFailed'`, [`job-${jobId}`]);
  return rows.rows[0]?.detail ?? '';
}

describe('reference-image URLs', () => {
  // Redirect cases carry their target; the redirector's address is known only once it listens.
  it.each([...INTERNAL, ...REDIRECTED.map((t): [string, string] => [`redirect to ${t}`, `redirect:${t}`])])('%s: the job fails with asset_fetch_failed, refused by the guard', async (_name, target) => {
    const url = target.startsWith('redirect:') ? redirectTo(target.slice('redirect:'.length)) : target;
    const submitted = await alice.submit(job({ referenceImage: { url } }));
    expect(submitted.status).toBe(202);
    const done = await alice.waitFor(submitted.body.id, isTerminalJob);
    expect(done).toMatchObject({ status: 'failed', errorCode: 'asset_fetch_failed' });
    expect(done.message).not.toMatch(/127\.|::1|169\.254|localhost|private/i);
    // Refused by the address or name rule, not merely unreachable.
    expect(await failureDetail(done.id)).toMatch(/refused or failed: (private_address|blocked_hostname)$/);
    // A redirect case: the first hop (the allowed redirector) was asked for this very target, so the refusal was of the second.
    if (target.startsWith('redirect:')) {
      const asked = redirector.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('to'));
      expect(asked).toContain(target.slice('redirect:'.length));
    }
  });

  it('the redirecting server was asked, the internal one never', () => {
    expect(redirector.requests.length).toBeGreaterThanOrEqual(REDIRECTED.length);
    expect(canary.requests).toEqual([]);
  });
});

describe('webhook URLs', () => {
  const deliveries = async (jobId: string) =>
    (await db.query(`SELECT version, status, attempts, last_error, last_http_status FROM webhook_deliveries WHERE job_id = $1 ORDER BY version`, [jobId])).rows as {
      version: number;
      status: string;
      attempts: number;
      last_error: string | null;
      last_http_status: number | null;
    }[];

  /** Waits until the job ended and every status change it had was given up on or delivered. */
  async function settled(jobId: string) {
    await alice.waitFor(jobId, isTerminalJob);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await deliveries(jobId);
      if ((rows.length >= 3 && rows.every((r) => r.status !== 'pending')) || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('delivers to the allow-listed receiver (the control)', async () => {
    const { body } = await alice.submit(job({ webhookUrl: `http://${receiver.host}/hook` }));
    const rows = await settled(body.id);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'delivered'));
    expect(receiver.requests.filter((r) => r.body.includes(body.id)).length).toBe(rows.length);
    // The owner reads the same deliveries through the API (the gateway asks notification).
    const mine = await alice.call<{ data: { status: string; attemptLog: { outcome: string }[] }[] }>('GET', `/v1/jobs/${body.id}/webhooks`);
    expect(mine.status).toBe(200);
    // The job's last notices may still be on their way: the ones settled above read the same.
    expect(mine.body.data.slice(0, rows.length).map((d) => [d.status, d.attemptLog.map((a) => a.outcome)])).toEqual(rows.map(() => ['delivered', ['delivered']]));
  });

  it('signs with the secret the API shows, and after a rotation under the old one too until it is ended', async () => {
    type Secret = { secret: string; generation: number; previousSecretValidUntil: string | null };
    const secretNow = async () => (await alice.call<Secret>('GET', '/v1/webhooks/secret')).body;
    const rotate = async (body?: unknown) => {
      const res = await alice.call<Secret>('POST', '/v1/webhooks/secret/rotate', body);
      expect(res.status).toBe(200);
      return res.body;
    };
    const testSend = async (path: string) => {
      const res = await alice.call<{ delivered: boolean }>('POST', '/v1/webhooks/test', { url: `http://${receiver.host}${path}` });
      expect(res.body).toMatchObject({ delivered: true });
      const [got] = receiver.requests.filter((r) => r.url === path);
      return (secret: Secret) => signedWith(secret.secret, got!.headers, got!.body);
    };
    const before = await secretNow();
    expect((await testSend('/signed-before'))(before)).toBe(true);

    const rotated = await rotate();
    expect(rotated.generation).toBe(before.generation + 1);
    expect(Date.parse(rotated.previousSecretValidUntil!)).toBeGreaterThan(Date.now() + 86_000_000);
    expect(await secretNow()).toEqual(rotated);
    const during = await testSend('/signed-during');
    expect([during(rotated), during(before)]).toEqual([true, true]);

    const afterLeak = await rotate({ keepPreviousForSeconds: 0 });
    const after = await testSend('/signed-after');
    expect([after(afterLeak), after(rotated), after(before)]).toEqual([true, false, false]);
  });

  it('sends only the event types a job asked for (webhookEvents), and refuses a list with no URL or an unknown type', async () => {
    const { status, body } = await alice.submit(job({ webhookUrl: `http://${receiver.host}/only-the-end`, webhookEvents: ['video.job.succeeded', 'video.job.failed'] }));
    expect(status).toBe(202);
    expect(body.webhookEvents).toEqual(['video.job.succeeded', 'video.job.failed']);
    expect(await alice.waitFor(body.id, isTerminalJob)).toMatchObject({ status: 'succeeded' });
    const deadline = Date.now() + 20_000;
    while ((await deliveries(body.id)).some((r) => r.status === 'pending') || (await deliveries(body.id)).length === 0) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const got = receiver.requests.filter((r) => r.url === '/only-the-end');
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual(['video.job.succeeded']);

    for (const extra of [{ webhookEvents: ['video.job.succeeded'] }, { webhookUrl: `http://${receiver.host}/x`, webhookEvents: ['video.job.finished'] }, { webhookUrl: `http://${receiver.host}/x`, webhookEvents: [] }]) {
      const refused = await alice.submit(job(extra));
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'invalid_request', details: [expect.objectContaining({ path: expect.stringMatching(/^webhookEvents/) })] } });
    }
  });

  it('sends a signed test event to an endpoint on request (POST /v1/webhooks/test), and reports a refused address', async () => {
    const sent = await alice.call<{ delivered: boolean; outcome: string; httpStatus: number | null; webhookId: string }>('POST', '/v1/webhooks/test', { url: `http://${receiver.host}/test-endpoint` });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ delivered: true, outcome: 'delivered', httpStatus: 204 }); // the receiver answers 204
    const got = receiver.requests.filter((r) => r.url === '/test-endpoint');
    expect(got.map((r) => [r.headers['webhook-id'], JSON.parse(r.body).type])).toEqual([[sent.body.webhookId, 'video.job.test']]);

    const refused = await alice.call<{ delivered: boolean; outcome: string }>('POST', '/v1/webhooks/test', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(refused.body).toMatchObject({ delivered: false, outcome: 'refused' });
    expect((await alice.call('POST', '/v1/webhooks/test', { url: 'not a url' })).status).toBe(400);
  });

  // Refused at submit: every delivery would be refused, so the client hears it now. (A name resolving
  // to such an address is refused at submit too, tested with a resolver in intake's tests, and at each
  // delivery attempt, since what a name resolves to may change: notification's send-webhook.int.spec.ts.)
  it.each(INTERNAL)('%s: the submit is refused with 400 naming webhookUrl, and no job is created', async (_name, base) => {
    const before = (await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'JobSubmitted'`)).rows[0].n as number;
    const { status, body } = await alice.submit(job({ webhookUrl: `${base}hook` }));
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request', details: [{ path: 'webhookUrl' }] } });
    expect((await db.query(`SELECT count(*)::int AS n FROM events WHERE type = 'JobSubmitted'`)).rows[0].n).toBe(before);
  });

  // Webhooks follow no redirect at all (safeFetch with maxRedirects 0): a redirect fails the delivery at once.
  it.each(REDIRECTED)('a redirect to %s is not followed', async (target) => {
    const { body } = await alice.submit(job({ webhookUrl: redirectTo(target) }));
    const rows = await settled(body.id);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(r).toMatchObject({ status: 'failed', attempts: 1, last_error: 'refused: too_many_redirects (the receiver answered with a redirect, which is not followed: give its final URL)' });
  });

  it('an endpoint that was down is sent what it missed once an operator asks (reelay webhooks list / redeliver)', async () => {
    const { body } = await alice.submit(job({ webhookUrl: `http://${receiver.host}/down-for-now` }));
    const rows = await settled(body.id);
    expect(rows.map((r) => [r.status, r.attempts, r.last_http_status])).toEqual(rows.map(() => ['failed', 2, 503]));
    const listed = stack.cli('webhooks', 'list', body.id, '--attempts');
    expect(listed.code).toBe(0);
    const shown = listed.out.split('\n').map((l) => JSON.parse(l) as { version: number; status: string; lastHttpStatus: number; attemptLog: { outcome: string; httpStatus: number }[] });
    expect(shown.map((d) => [d.version, d.status, d.lastHttpStatus, d.attemptLog.map((a) => a.httpStatus)])).toEqual(rows.map((r) => [r.version, 'failed', 503, [503, 503]]));

    downForNow = false;
    expect(JSON.parse(stack.cli('webhooks', 'redeliver', body.id).out)).toEqual({ jobId: body.id, redelivering: rows.length });
    const deadline = Date.now() + 20_000;
    while ((await deliveries(body.id)).some((r) => r.status !== 'delivered') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await deliveries(body.id)).map((r) => [r.status, r.attempts])).toEqual(rows.map(() => ['delivered', 3]));
    const received = receiver.requests.filter((r) => r.url === '/down-for-now' && r.body.includes(body.id));
    // Two refused tries per status change, then each once more, in version order.
    expect(received.length).toBe(rows.length * 3);
    const redelivered = received.slice(-rows.length).map((r) => Number(/_v(\d+)$/.exec(String(r.headers['webhook-id']))?.[1]));
    expect(redelivered).toEqual(rows.map((r) => r.version));

    // An older status change given up on behind a delivered newer one is not sent: it would arrive out of order.
    await db.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE job_id = $1 AND version = $2`, [body.id, rows[0].version]);
    expect(JSON.parse(stack.cli('webhooks', 'redeliver', body.id).out)).toEqual({ jobId: body.id, redelivering: 0, skippedOlderThanDelivered: 1 });
  });

  it('the internal server was never contacted, and the refusals are counted', async () => {
    expect(canary.requests).toEqual([]);
    const attempts = await db.query(`SELECT outcome, count(*)::int AS n FROM webhook_attempts GROUP BY outcome`);
    const byOutcome = Object.fromEntries(attempts.rows.map((r) => [r.outcome, r.n]));
    expect(byOutcome.refused).toBeGreaterThanOrEqual(REDIRECTED.length * 3);
  });
});
