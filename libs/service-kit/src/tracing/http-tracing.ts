import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../metrics/registry';
import { extractContext, injectTraceparent } from './tracing';

const OPS_PATHS = /^\/(health\/|metrics$)/;

/**
 * Express middleware: each request (health and metrics scrapes aside) runs in a server span that
 * continues the caller's `traceparent` header, and the response names the span in its own
 * `traceparent` header so a client can find its request's trace. Also times requests by route.
 */
export function httpTracing(metrics?: Pick<Metrics, 'httpRequests'>) {
  const tracer = trace.getTracer('reelay.http');
  return (req: Request, res: Response, next: NextFunction) => {
    if (OPS_PATHS.test(req.path)) return next();
    const started = process.hrtime.bigint();
    const incoming = req.headers.traceparent;
    const parent = extractContext(typeof incoming === 'string' ? incoming : undefined);
    const span = tracer.startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
    const ctx = trace.setSpan(parent, span);
    const traceparent = injectTraceparent(ctx);
    if (traceparent) res.setHeader('traceparent', traceparent);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // Known after routing only; the route pattern keeps span names and labels low-cardinality.
      const route = req.route?.path ? `${req.baseUrl ?? ''}${String(req.route.path)}` : 'unmatched';
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      metrics?.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', finish);
    res.once('close', finish);
    // Body parsers call next() from the request stream's events, which run in the socket's async
    // context: bind the emitters so their listeners (and all that follows) stay in the span.
    context.bind(ctx, req);
    context.bind(ctx, res);
    context.with(ctx, next);
  };
}
