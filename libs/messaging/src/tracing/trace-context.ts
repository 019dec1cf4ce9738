import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/**
 * W3C trace context over NATS. Only the OpenTelemetry API is used here: without an SDK registered
 * (service-kit's initTracing) every call is a cheap no-op, so libraries and tests need no setup.
 */
const tracer = () => trace.getTracer('reelay.messaging');

/** The active context's `traceparent`, if a propagator is registered and a span is active. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** NATS headers carrying `traceparent` (explicit, or the active one); undefined when there is none. */
export function traceHeaders(traceparent: string | undefined = activeTraceparent()): MsgHdrs | undefined {
  if (!traceparent) return undefined;
  const h = natsHeaders();
  h.set('traceparent', traceparent);
  return h;
}

/** The remote parent named by a `traceparent` (a header, else e.g. the event envelope's), on a fresh root. */
export function contextFromTraceparent(...candidates: (string | undefined | null)[]): Context {
  const traceparent = candidates.find((t): t is string => typeof t === 'string' && t.length > 0);
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** Runs `fn` in a new span (child of `parent`), recording a thrown error; the span ends when `fn` settles. */
export function inSpan<T>(name: string, opts: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
