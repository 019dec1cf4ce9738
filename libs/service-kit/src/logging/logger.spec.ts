import { runWithContext } from '../context/request-context';
import { extractContext, initTracing, injectTraceparent, withSpan } from '../tracing/tracing';
import { createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    stream: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    },
  };
}

describe('createLogger', () => {
  beforeAll(() => initTracing('logger-spec', {}));

  it('writes JSON lines carrying the job, correlation and trace ids of the work in progress', async () => {
    const out = capture();
    const logger = createLogger('svc', 'info', out.stream);
    const parent = extractContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await withSpan('work', { parent }, () => runWithContext({ jobId: 'job_1', correlationId: 'corr-1' }, () => logger.info('hello')));
    expect(out.lines[0]).toMatchObject({ service: 'svc', msg: 'hello', jobId: 'job_1', correlationId: 'corr-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(out.lines[0].spanId).toMatch(/^[\da-f]{16}$/);
    expect(out.lines[0].spanId).not.toBe('00f067aa0ba902b7');
  });

  it('takes the trace id from a context traceparent when no span is active', () => {
    const out = capture();
    runWithContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, () => createLogger('svc', 'info', out.stream).info('x'));
    expect(out.lines[0].traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('censors secret fields and credentials inside strings', () => {
    const out = capture();
    const logger = createLogger('svc', 'info', out.stream);
    logger.info({ apiKey: 'rly_abcdefghijklmnopqrstuvwxyz012345', headers: { authorization: 'Bearer abc.def.ghi', 'x-api-key': 'k-123' } }, 'request');
    logger.info({ provider: { token: 'r8_secretsecretsecretsecret', apiKey: 'sk-abcdefghijklmnopqrstu' } }, 'provider');
    logger.warn({ url: 'https://generativelanguage.googleapis.com/v1/models/veo:predict?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&alt=json' }, 'call failed');
    logger.error({ err: new Error('401 from provider: Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz') }, 'provider said no to r8_ABCDEFGHIJKLMNOPQRSTUV');
    logger.info({ db: 'postgres://reelay:hunter2hunter2@db:5432/reelay' }, 'connecting');
    const all = out.raw.join('\n');
    for (const secret of ['rly_abcdefghijklmnopqrstuvwxyz012345', 'abc.def.ghi', 'k-123', 'r8_secret', 'sk-abcdefghijklmnopqrstu', 'AIzaSyA-1234567890', 'sk-proj-abc', 'r8_ABCDEFGHIJ', 'hunter2']) {
      expect(all).not.toContain(secret);
    }
    expect(out.lines[2].url).toBe('https://generativelanguage.googleapis.com/v1/models/veo:predict?key=[redacted]&alt=json');
    expect(out.lines[4].db).toBe('postgres://reelay:[redacted]@db:5432/reelay');
    expect(out.lines[3].msg).toBe('provider said no to [redacted]');
  });

  it('logs an error by its readable fields only: a failed statement’s parameters and an HTTP client’s request stay out', () => {
    const out = capture();
    const failed = Object.assign(new Error('canceling statement due to statement timeout'), {
      code: '57014',
      query: 'INSERT INTO job_view ...',
      parameters: ['{"webhookUrl":"https://hooks.example.com/private-path","prompt":"a private prompt"}'],
      driverError: { parameters: ['private'] },
      request: { headers: { authorization: 'Bearer abc' } },
    });
    const wrapped = new Error('projection batch failed', { cause: failed });
    createLogger('svc', 'info', out.stream).error({ err: wrapped }, 'job_view projection failed; retrying');
    expect(out.lines[0].err).toEqual({
      type: 'Error',
      message: 'projection batch failed',
      stack: expect.stringContaining('projection batch failed'),
      cause: { type: 'Error', message: 'canceling statement due to statement timeout', stack: expect.any(String), code: '57014' },
    });
    expect(out.raw[0]).not.toContain('private');
  });

  it('leaves out the detail of a database error, which quotes the row a constraint refused, and keeps a provider error\'s', () => {
    const out = capture();
    const refused = Object.assign(new Error('null value in column "model" violates not-null constraint'), {
      severity: 'ERROR',
      code: '23502',
      detail: 'Failing row contains (job_1, a private prompt, https://hooks.example.com/private-path).',
    });
    const provider = Object.assign(new Error('runway submit failed'), { kind: 'server', detail: 'HTTP 503 from the provider' });
    const logger = createLogger('svc', 'info', out.stream);
    logger.error({ err: refused }, 'append failed');
    logger.error({ err: provider }, 'submit failed');
    expect(out.lines[0].err).toEqual({ type: 'Error', message: refused.message, stack: expect.any(String), code: '23502' });
    expect(out.raw[0]).not.toContain('private');
    expect(out.lines[1].err).toMatchObject({ kind: 'server', detail: 'HTTP 503 from the provider' });
  });

  it('masks presigned URL credentials of any store, secret webhook paths and signing secrets inside strings', () => {
    const out = capture();
    const logger = createLogger('svc', 'info', out.stream);
    logger.warn(
      'fetch failed: https://b.s3.amazonaws.com/x.png?X-Amz-Security-Token=FQoGZXIvYXdz&X-Amz-Date=20261204 ' +
        'https://tos.example.com/v.mp4?X-Tos-Credential=AKLT%2Fcred&X-Tos-Signature=abcdef&X-Tos-Expires=86400 ' +
        'https://storage.googleapis.com/o?X-Goog-Credential=svc%40proj&X-Goog-Signature=00ff ' +
        'https://hooks.slack.com/services/T000/B000/XXXXSECRET https://discord.com/api/webhooks/123/DISCORDSECRET ' +
        'secret whsec_0123456789abcdefABCDEF',
    );
    for (const secret of ['FQoGZXIvYXdz', 'AKLT', 'abcdef&', 'svc%40proj', '00ff', 'XXXXSECRET', 'DISCORDSECRET', 'whsec_0123']) expect(out.lines[0].msg).not.toContain(secret);
    expect(out.lines[0].msg).toContain('X-Amz-Date=20261204');
    expect(out.lines[0].msg).toContain('X-Tos-Expires=86400');
  });

  it('leaves ordinary text alone', () => {
    const out = capture();
    createLogger('svc', 'info', out.stream).info({ prompt: 'a key to the city, token of thanks', status: 'running' }, 'job job_01 moved to running');
    expect(out.lines[0]).toMatchObject({ prompt: 'a key to the city, token of thanks', status: 'running', msg: 'job job_01 moved to running' });
  });
});

describe('tracing helpers', () => {
  beforeAll(() => initTracing('tracing-spec', {}));

  it('continues a remote trace and hands on a child traceparent', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const outgoing = await withSpan('child', { parent: extractContext(incoming) }, () => injectTraceparent());
    expect(outgoing).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[\da-f]{16}-01$/);
    expect(outgoing).not.toBe(incoming);
  });

  it('starts a new trace without a parent, not sampled when nothing exports spans, and injects nothing outside a span', async () => {
    const tp = await withSpan('root', { parent: extractContext(undefined) }, (span) => {
      expect(span.isRecording()).toBe(false);
      return injectTraceparent();
    });
    expect(tp).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-00$/);
    expect(injectTraceparent()).toBeUndefined();
  });

  it('records a failure and rethrows', async () => {
    await expect(withSpan('boom', {}, () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
  });
});
