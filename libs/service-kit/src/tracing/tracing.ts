import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ScrubbingSpanProcessor } from './scrubbing-span-processor';

let provider: BasicTracerProvider | undefined;

// Whole numbers only, and above 0 for sizes: a batch size or queue of 0 makes the batch processor's
// flush at shutdown loop for ever (a schedule delay of 0 is fine: export at once).
const numberFromEnv = (env: NodeJS.ProcessEnv, name: string, min = 1): number | undefined => {
  const n = Number(env[name]);
  return env[name] && Number.isInteger(n) && n >= min ? n : undefined;
};

/**
 * Sets up OpenTelemetry tracing for this process; call it first thing in main. Spans are always
 * made (so logs carry trace ids and W3C `traceparent` travels over HTTP and NATS), but recorded
 * and exported only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set
 * (or the caller's trace is sampled): OTLP/HTTP
 * JSON, batched every OTEL_BSP_SCHEDULE_DELAY ms (default 5000). No auto-instrumentation: the
 * transports, the gateway's HTTP middleware and provider calls make the spans. Idempotent.
 */
export function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (provider) return;
  const spanProcessors: SpanProcessor[] = [];
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    spanProcessors.push(
      new ScrubbingSpanProcessor(
        new BatchSpanProcessor(new OTLPTraceExporter(), {
          scheduledDelayMillis: numberFromEnv(env, 'OTEL_BSP_SCHEDULE_DELAY', 0) ?? 5000,
          maxQueueSize: numberFromEnv(env, 'OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048,
          maxExportBatchSize: numberFromEnv(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512,
        }),
      ),
    );
  }
  // Without an exporter a recorded span would be built (attributes, times, events) only to be
  // dropped: spans are then not recorded, yet still carry trace and span ids for logs and
  // propagation, with the sampled flag off unless the caller's trace is sampled.
  const sampler = spanProcessors.length ? undefined : new ParentBasedSampler({ root: new AlwaysOffSampler() });
  provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }), spanProcessors, ...(sampler ? { sampler } : {}) });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

/** Exports what is still buffered and stops; call before the process exits. */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
}

const tracer = () => trace.getTracer('reelay');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active one by default (see extractContext for a remote parent). */
  parent?: Context;
}

/** Runs `fn` in a new active span; a thrown error is recorded and marks the span failed. */
export function withSpan<T>(name: string, opts: SpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // Scrubbed on export (ScrubbingSpanProcessor).
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` of the active span (or of `ctx`), if any. */
export function injectTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A context whose parent is the remote span named by `traceparent`; an empty root without one. */
export function extractContext(traceparent: string | undefined | null): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** Trace and span id of the active span, for log lines. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
}

/** The trace id inside a `traceparent` header value (version-traceid-spanid-flags). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent.trim()) : null;
  return m?.[1];
}

export { SpanKind };
