import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { jobStreamId } from '@reelay/contracts';
import { startStack, TEST_NATS_URL, type Stack } from '@reelay/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { apiClient, type ApiClient } from './support/api-client';

// Traces, metrics and logs of one job through the five services as processes: spans go to a test
// OTLP/HTTP (JSON) receiver, /metrics is read before and after, stdout lines are parsed.

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

let stack: Stack;
let alice: ApiClient;
let receiver: Server;
const spans: CollectedSpan[] = [];
const SERVICES = ['gateway', 'intake', 'dispatch', 'polling', 'notification'] as const;

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttr = { key: string; value: OtlpValue };
const attrValue = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attrs = (list: OtlpAttr[] = []) => Object.fromEntries(list.map((a) => [a.key, attrValue(a.value)]));

function collect(body: { resourceSpans?: { resource?: { attributes?: OtlpAttr[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }) {
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name']);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service,
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: s.parentSpanId ? String(s.parentSpanId) : undefined,
          name: String(s.name),
          attributes: attrs(s.attributes as OtlpAttr[]),
        });
      }
    }
  }
}

const instance = (name: string) => stack.services.find((s) => s.name === name)!;

/** Prometheus text → `name{labels}` → value (the per-process `service` label dropped). */
async function scrape(name: string): Promise<{ text: string; values: Map<string, number> }> {
  const text = await (await fetch(`${instance(name).url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at).replace(/,?service="[^"]*"/, '').replace('{,', '{').replace('{}', ''), Number(line.slice(at + 1)));
  }
  return { text, values };
}

/** Sum of the series of `metric` whose labels include every `label="value"` given. */
function total(values: Map<string, number>, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, v] of values) {
    const name = key.split('{')[0];
    if (name !== metric) continue;
    if (Object.entries(labels).every(([k, val]) => key.includes(`${k}="${val}"`))) sum += v;
  }
  return sum;
}

async function eventually<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      if (req.url === '/v1/traces') collect(JSON.parse(raw.toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  stack = await startStack({
    label: 'observability',
    env: {
      PROVIDERS_ENABLED: 'local,runway',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'info',
    },
  });
  alice = apiClient(stack.gateway.url, stack.createUser('alice', 1000));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  receiver?.close();
});

const runwayJob = { model: 'gen4.5', prompt: 'a lighthouse at dusk', aspectRatio: '16:9', durationSeconds: 5 };

describe('one job, observed', () => {
  let jobId: string;
  let traceId: string;
  let correlationId: string;
  const before = new Map<string, Map<string, number>>();
  const after = new Map<string, Map<string, number>>();

  beforeAll(async () => {
    for (const s of SERVICES) before.set(s, (await scrape(s)).values);
    correlationId = `obs-${Date.now()}`;
    const submitted = await alice.submit(runwayJob, { 'x-request-id': correlationId });
    expect(submitted.status).toBe(202);
    jobId = submitted.body.id;
    const traceparent = submitted.headers.get('traceparent') ?? '';
    expect(traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
    traceId = traceparent.split('-')[1];
    const done = await alice.waitFor(jobId, (j) => j.status === 'succeeded' || j.status === 'failed');
    expect(done.status).toBe('succeeded');
    // Notification handles JobSucceeded after the read model shows it; wait for its count.
    await eventually(async () => total((await scrape('notification')).values, 'reelay_job_transitions_total', { status: 'succeeded' }), (n) => n > total(before.get('notification')!, 'reelay_job_transitions_total', { status: 'succeeded' }));
    for (const s of SERVICES) after.set(s, (await scrape(s)).values);
  }, 60_000);

  it('puts every span of the job, in all five services, on the trace named by the response', async () => {
    const jobSpans = () => spans.filter((s) => s.attributes['reelay.stream.id'] === jobStreamId(jobId) || s.attributes['reelay.job.id'] === jobId);
    const onTrace = await eventually(
      () => new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.service)),
      (services) => SERVICES.every((s) => services.has(s)) && jobSpans().some((s) => s.service === 'notification' && s.name.includes('JobSucceeded')),
    );
    expect([...onTrace].sort()).toEqual([...SERVICES].sort());
    expect(jobSpans().length).toBeGreaterThan(5);
    expect(new Set(jobSpans().map((s) => s.traceId))).toEqual(new Set([traceId]));

    const trace = spans.filter((s) => s.traceId === traceId);
    // One root (the gateway's request span); every other span's parent is on the trace.
    const ids = new Set(trace.map((s) => s.spanId));
    const roots = trace.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => [s.service, s.name])).toEqual([['gateway', 'POST /v1/jobs']]);
    expect(trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
    // Provider calls are client spans: the submit in dispatch, the checks in polling.
    expect(trace.some((s) => s.service === 'dispatch' && s.name === 'runway submit')).toBe(true);
    expect(trace.some((s) => s.service === 'polling' && s.name === 'runway check')).toBe(true);
  });

  it('continues a trace the client started', async () => {
    const clientTrace = '0af7651916cd43dd8448eb211c80319c';
    const submitted = await alice.submit({ ...runwayJob, prompt: 'a quiet harbour' }, { traceparent: `00-${clientTrace}-b7ad6b7169203331-01` });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('traceparent')).toMatch(new RegExp(`^00-${clientTrace}-[\\da-f]{16}-01$`));
    await alice.waitFor(submitted.body.id, (j) => j.status === 'succeeded' || j.status === 'failed');
    const services = await eventually(
      () => new Set(spans.filter((s) => s.traceId === clientTrace).map((s) => s.service)),
      (set) => SERVICES.every((s) => set.has(s)),
    );
    expect([...services].sort()).toEqual([...SERVICES].sort());
  });

  it('moves the counters and histograms on every service', () => {
    const moved = (service: string, metric: string, labels: Record<string, string> = {}) =>
      total(after.get(service)!, metric, labels) - total(before.get(service)!, metric, labels);

    expect(moved('gateway', 'reelay_http_request_seconds_count', { method: 'POST', route: '/v1/jobs', status: '202' })).toBe(1);
    expect(moved('gateway', 'reelay_http_request_seconds_sum', { route: '/v1/jobs' })).toBeGreaterThan(0);

    for (const worker of ['intake', 'dispatch', 'polling', 'notification']) {
      expect({ worker, handled: moved(worker, 'reelay_messages_handled_total', { outcome: 'ack' }) > 0 }).toEqual({ worker, handled: true });
      // Lag is read from JetStream at start and every 10 s: a series per durable consumer exists.
      expect({ worker, lag: [...after.get(worker)!.keys()].some((k) => k.startsWith('reelay_consumer_pending{consumer=')) }).toEqual({ worker, lag: true });
    }

    expect(moved('dispatch', 'reelay_provider_call_seconds_count', { provider: 'runway', operation: 'submit', outcome: 'ok' })).toBe(1);
    expect(after.get('dispatch')!.has('reelay_provider_in_flight{provider="runway"}')).toBe(true);
    expect(moved('polling', 'reelay_provider_call_seconds_count', { provider: 'runway', operation: 'check' })).toBeGreaterThanOrEqual(1);
    expect(moved('polling', 'reelay_provider_call_seconds_bucket', { provider: 'runway', operation: 'check', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    // The output copy's fsyncs: the file's own, and its wait for the directory sync.
    expect(moved('polling', 'reelay_storage_sync_seconds_count', { target: 'file' })).toBe(1);
    expect(moved('polling', 'reelay_storage_sync_seconds_count', { target: 'directory' })).toBe(1);

    for (const status of ['queued', 'validating', 'running', 'succeeded']) {
      expect({ status, n: moved('notification', 'reelay_job_transitions_total', { status }) }).toEqual({ status, n: 1 });
    }
    for (const status of ['queued', 'validating', 'running']) {
      expect({ status, n: moved('notification', 'reelay_job_status_seconds_count', { status }) }).toEqual({ status, n: 1 });
    }
    expect(moved('notification', 'reelay_job_status_seconds_sum', { status: 'running' })).toBeGreaterThan(0);
  });

  it('shows how far the outbox relay (every worker) and the job list (gateway) are behind the log, caught up once the job is done', async () => {
    for (const [service, reader] of [['intake', 'relay'], ['dispatch', 'relay'], ['polling', 'relay'], ['notification', 'relay'], ['gateway', 'job_view']]) {
      const values = await eventually(async () => (await scrape(service)).values, (v) => v.get(`reelay_log_unread_events{reader="${reader}"}`) === 0);
      expect({ service, unread: values.get(`reelay_log_unread_events{reader="${reader}"}`), oldest: values.get(`reelay_log_oldest_unread_seconds{reader="${reader}"}`) }).toEqual({ service, unread: 0, oldest: 0 });
    }
  });

  it('writes JSON log lines that carry the job, correlation and trace ids', () => {
    const lines = instance('dispatch')
      .output()
      .split('\n')
      .filter((l) => l.includes(jobId));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ service: 'dispatch', jobId, correlationId, traceId });
      expect(entry.spanId).toMatch(/^[\da-f]{16}$/);
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('provider accepted the job');
  });
});

describe('dead letters', () => {
  it('counts a message the transport cannot decode', async () => {
    const metric = 'reelay_dead_letters_total';
    const consumer = { consumer: 'notification-jobs' };
    const before = total((await scrape('notification')).values, metric, consumer);
    const nc = await connect({ servers: TEST_NATS_URL });
    try {
      await jetstream(nc).publish(`${stack.env.NATS_PREFIX}.events.job.NotAnEvent`, 'not an event');
    } finally {
      await nc.close();
    }
    const after = await eventually(async () => total((await scrape('notification')).values, metric, consumer), (n) => n > before);
    expect(after).toBe(before + 1);
    // Open until replayed, on every worker (read from the shared table).
    const open = (await scrape('dispatch')).values.get('reelay_dead_letters_open{consumer="notification-jobs"}');
    expect(open).toBe(1);
  });
});
