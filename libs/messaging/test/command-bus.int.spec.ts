import type { NatsConnection } from '@nats-io/transport-node';
import { CommandReply, commandSubjects, liveJobSubject } from '@reelay/contracts';
import { TEST_NATS_URL, uniqueNatsPrefix } from '@reelay/testing';
import {
  CommandRejectedError,
  CommandUnavailableError,
  connectNats,
  publishLive,
  request,
  serveCommands,
  subscribeLive,
  type CommandServer,
} from '../src';

describe('command bus and live pushes (real NATS)', () => {
  let caller: NatsConnection;
  let replicas: NatsConnection[];
  const servers: CommandServer[] = [];

  beforeAll(async () => {
    caller = await connectNats(TEST_NATS_URL, 'command-caller');
    replicas = await Promise.all([connectNats(TEST_NATS_URL, 'intake-1'), connectNats(TEST_NATS_URL, 'intake-2')]);
  });

  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    await Promise.all([caller, ...replicas].map((c) => c.drain()));
  });

  it('each request is answered by exactly one replica of the queue group', async () => {
    const subject = `${uniqueNatsPrefix('cmd')}.cmd.echo`;
    const answeredBy: string[][] = [[], []];
    replicas.forEach((nc, i) =>
      servers.push(
        serveCommands(nc, subject, 'intake', async (payload) => {
          const { n } = payload as { n: number };
          answeredBy[i].push(String(n));
          return { ok: true, n, by: i };
        }),
      ),
    );
    await Promise.all(replicas.map((r) => r.flush()));

    const replies = await Promise.all(Array.from({ length: 40 }, (_, n) => request<{ ok: boolean; n: number; by: number }>(caller, subject, { n }, 2000)));
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(answeredBy[0].length + answeredBy[1].length).toBe(40);
    expect(new Set([...answeredBy[0], ...answeredBy[1]]).size).toBe(40);
    expect(answeredBy[0].length).toBeGreaterThan(0);
    expect(answeredBy[1].length).toBeGreaterThan(0);
  });

  it('turns a handler failure into a typed error reply, never a hung caller', async () => {
    const subject = commandSubjects(uniqueNatsPrefix('cmd')).submitJob;
    const errors: unknown[] = [];
    servers.push(
      serveCommands(
        replicas[0],
        subject,
        'intake',
        async (payload) => {
          const { kind } = payload as { kind: string };
          if (kind === 'refuse') throw CommandRejectedError.of('insufficient_credits', 'Not enough credits for this job');
          if (kind === 'outage') throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
          throw new Error('db password=hunter2 rejected');
        },
        { onError: (err) => errors.push(err) },
      ),
    );
    await replicas[0].flush();

    const refused = CommandReply.parse(await request(caller, subject, { kind: 'refuse' }, 2000));
    expect(refused).toEqual({ ok: false, error: { code: 'insufficient_credits', message: 'Not enough credits for this job' } });

    const crashed = CommandReply.parse(await request(caller, subject, { kind: 'crash' }, 2000));
    expect(crashed.ok).toBe(false);
    expect(crashed.ok === false && crashed.error.code).toBe('internal_error');
    expect(JSON.stringify(crashed)).not.toContain('hunter2');
    expect(errors).toHaveLength(1);

    // The database out of reach is an outage the caller may retry, not a broken command.
    const outage = CommandReply.parse(await request(caller, subject, { kind: 'outage' }, 2000));
    expect(outage.ok === false && outage.error.code).toBe('service_unavailable');
    expect(JSON.stringify(outage)).not.toContain('administrator');

    const raw = await caller.request(subject, 'not json', { timeout: 2000 });
    expect(raw.json()).toEqual({ ok: false, error: { code: 'invalid_request', message: 'The command is not valid JSON' } });
  });

  it('a reply that cannot be sent (over max_payload, not JSON) becomes an internal_error reply, reported, never a hung caller or an unhandled rejection', async () => {
    const subject = `${uniqueNatsPrefix('cmd')}.cmd.unsendable`;
    const errors: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      servers.push(
        serveCommands(
          replicas[0],
          subject,
          'intake',
          async (payload) => ((payload as { kind: string }).kind === 'big' ? { pad: 'x'.repeat(replicas[0].info!.max_payload + 1) } : { n: 1n }),
          { onError: (err) => errors.push(err) },
        ),
      );
      await replicas[0].flush();

      for (const kind of ['big', 'bigint']) {
        const reply = CommandReply.parse(await request(caller, subject, { kind }, 2000));
        expect(reply).toEqual({ ok: false, error: { code: 'internal_error', message: expect.any(String) } });
      }
      expect(errors).toHaveLength(2);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails fast with CommandUnavailableError when nobody serves the subject', async () => {
    const subject = `${uniqueNatsPrefix('cmd')}.cmd.nobody`;
    await expect(request(caller, subject, {}, 2000)).rejects.toMatchObject({ name: CommandUnavailableError.name, reason: 'no_responders' });
  });

  it('a live push too large for the server fails for its caller to report; on a closed connection it is dropped quietly', async () => {
    const subject = liveJobSubject(uniqueNatsPrefix('live'), 'job_big');
    await expect(publishLive(caller, subject, { pad: 'x'.repeat(caller.info!.max_payload + 1) })).rejects.toThrow(/max_payload/);
    const closed = await connectNats(TEST_NATS_URL, 'closed-publisher');
    await closed.close();
    await expect(publishLive(closed, subject, { version: 1 })).resolves.toBeUndefined();
  });

  it('publishes live pushes to subscribers of a wildcard', async () => {
    const prefix = uniqueNatsPrefix('live');
    const received: [unknown, string][] = [];
    const sub = subscribeLive(replicas[1], `${prefix}.live.job.*`, (payload, subject) => received.push([payload, subject]));
    await replicas[1].flush();
    publishLive(caller, liveJobSubject(prefix, 'job_1'), { status: 'running' });
    await caller.flush();
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual([[{ status: 'running' }, liveJobSubject(prefix, 'job_1')]]);
    sub.unsubscribe();
  });
});
