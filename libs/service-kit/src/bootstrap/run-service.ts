import 'reflect-metadata';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { JetStreamServer } from '@reelay/messaging';
import { METRICS } from '../health/ops.controller';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/registry';
import { httpTracing } from '../tracing/http-tracing';
import { ConnectionDrain } from './connection-drain';
import { shutdownTracing } from '../tracing/tracing';

export interface RunServiceOptions {
  name: string;
  module: unknown;
  port: number;
  logger: Logger;
  /** Transports (e.g. the JetStream consumer strategy) that feed @EventPattern handlers. */
  strategies?: (app: INestApplication) => CustomTransportStrategy[];
  configure?: (app: INestApplication) => void | Promise<void>;
  /** How long a stop may take before the process exits anyway (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
}

function nestLogger(logger: Logger): LoggerService {
  return {
    log: (m, ctx) => logger.info({ ctx }, String(m)),
    error: (m, trace, ctx) => logger.error({ ctx, trace }, String(m)),
    warn: (m, ctx) => logger.warn({ ctx }, String(m)),
    debug: (m, ctx) => logger.debug({ ctx }, String(m)),
    verbose: (m, ctx) => logger.trace({ ctx }, String(m)),
  };
}

/**
 * Boots a reelay service: HTTP (health, metrics, routes) plus its message transports, and closes
 * everything on SIGTERM/SIGINT: transports stop pulling first and finish what they hold, then
 * connections close. A second signal or the grace period forces the exit.
 */
export async function runService(opts: RunServiceOptions): Promise<INestApplication> {
  // Node's own report of an error nothing handled prints it whole; this one goes through the logger's scrubbing.
  const crash = (err: unknown) => {
    opts.logger.fatal({ err }, 'error nothing handled: exiting');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const app = await NestFactory.create(opts.module as never, { logger: nestLogger(opts.logger), bodyParser: false });
  const metrics = serviceMetrics(app);
  const drain = new ConnectionDrain();
  app.use(drain.middleware);
  app.use(httpTracing(metrics));
  await opts.configure?.(app);
  for (const strategy of opts.strategies?.(app) ?? []) {
    if (strategy instanceof JetStreamServer && metrics) observeTransport(strategy, metrics);
    app.connectMicroservice({ strategy }, { inheritAppConfig: true });
  }
  await app.startAllMicroservices();
  await app.listen(opts.port);
  // Clients and proxies reuse idle keep-alive connections (undici drops them after 4 s, load
  // balancers after ~60 s). A server that closes an idle connection first (Node's default is 5 s)
  // races with a request already being written to it, which the client sees as "other side
  // closed"; so the server waits longer than they do. headersTimeout must exceed keepAliveTimeout.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  opts.logger.info({ port: opts.port }, `${opts.name} listening`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      opts.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    opts.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      opts.logger.error('grace period over: exiting with work still open');
      process.exit(1);
    }, opts.shutdownGraceMs ?? 40_000);
    force.unref();
    drain.start(server);
    app
      .close()
      .then(async () => {
        opts.logger.info('stopped cleanly');
        await shutdownTracing();
        process.exit(0);
      })
      .catch((err: unknown) => {
        opts.logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return app;
}

/** The Metrics the app's OpsModule serves at /metrics, if it has one. */
function serviceMetrics(app: INestApplication): Metrics | undefined {
  try {
    return app.get<Metrics>(METRICS, { strict: false });
  } catch {
    return undefined;
  }
}

/** Consumer lag, dead letters, handled messages, overdue handlers and dropped event fields of a JetStream transport, on the service's registry. */
function observeTransport(server: JetStreamServer, metrics: Metrics): void {
  server.on('pending', ({ consumer, pending }) => metrics.consumerLag.set({ consumer }, pending));
  server.on('deadLettered', ({ consumer }) => metrics.deadLetters.inc({ consumer }));
  server.on('handled', ({ consumer, outcome }) => metrics.messagesHandled.inc({ consumer, outcome }));
  server.on('overdue', ({ consumer }) => metrics.handlersOverdue.inc({ consumer }));
  server.on('ignoredFields', ({ type }) => metrics.eventFieldsIgnored.inc({ type }));
}
