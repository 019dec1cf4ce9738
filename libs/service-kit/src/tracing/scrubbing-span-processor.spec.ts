import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { inSpan } from '@reelay/messaging';
import { ScrubbingSpanProcessor } from './scrubbing-span-processor';
import { withSpan } from './tracing';

const KEY = 'sk-proj-0123456789abcdefghijklmnop';

describe('spans leave the process without credentials', () => {
  const exporter = new InMemorySpanExporter();
  let provider: BasicTracerProvider;

  beforeAll(() => {
    provider = new BasicTracerProvider({ spanProcessors: [new ScrubbingSpanProcessor(new SimpleSpanProcessor(exporter))] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  const exported = () => JSON.stringify(exporter.getFinishedSpans().map((s) => ({ attributes: s.attributes, events: s.events, status: s.status })));

  it('a handler error recorded by a messaging consumer span', async () => {
    await expect(inSpan('job.validate', {}, async () => {
      throw new Error(`provider said 401 for Authorization: Bearer ${KEY} at https://api.example/v1?api_key=${KEY}`);
    })).rejects.toThrow(KEY);
    const out = exported();
    expect(out).toContain('provider said 401');
    expect(out).toContain('Bearer [redacted]');
    expect(out).not.toContain(KEY);
  });

  it('an error recorded by service-kit spans, and string attributes of any span', async () => {
    await expect(withSpan('provider.call', { attributes: { 'url.full': `https://u:${KEY}@api.example/v1`, tries: 2, 'reelay.hosts': [`x?token=${KEY}`] } }, () => {
      throw new Error(`refused key ${KEY}`);
    })).rejects.toThrow();
    const out = exported();
    expect(out).toContain('refused key [redacted]');
    expect(out).toContain('"tries":2');
    expect(out).not.toContain(KEY);
  });
});
