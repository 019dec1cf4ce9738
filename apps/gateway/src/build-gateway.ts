import type { DynamicModule, INestApplication } from '@nestjs/common';
import { catalogFromEnv } from '@reelay/catalog';
import { configuredAdapters, simulatedProviders } from '@reelay/providers';
import { connectInfra, runWithContext, type Logger } from '@reelay/service-kit';
import { LocalStorage, sweepAbandonedPeriodically } from '@reelay/storage';
import type { Application, NextFunction, Request, Response } from 'express';
import { AppModule } from './app.module';
import { startAssetRetention } from './delete-asset/asset-retention';
import type { GatewayConfig } from './config/gateway-config';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import type { GatewayDeps } from './gateway-deps';
import { correlationIdOf } from './http/correlation';
import { GATEWAY_MIGRATIONS } from './migrations/gateway-migrations';
import { createJobViewProjection } from '@reelay/read-models';

export interface BuiltGateway {
  deps: GatewayDeps;
  module: DynamicModule;
  /** App-level setup: error filter, request context. Call before init/listen. */
  configure: (app: INestApplication) => void;
}

/**
 * Connects to PostgreSQL (running pending migrations under the store's advisory lock) and NATS,
 * starts the job_view projection, and returns the Nest module wired to them. Everything it opens
 * is closed by the module's shutdown hook (app.close()).
 */
export async function buildGateway(config: GatewayConfig, logger: Logger): Promise<BuiltGateway> {
  // The gateway writes no events, so it runs no relay; the workers do.
  const infra = await connectInfra({ name: 'gateway', config, logger, migrations: GATEWAY_MIGRATIONS });
  const { dataSource, store, nc } = infra;
  const projection = createJobViewProjection(store, { onError: (err) => logger.error({ err }, 'job_view projection failed; retrying') });
  await projection.start();

  const deps: GatewayDeps = {
    config,
    dataSource,
    store,
    nc,
    logger,
    // The models offered are those of the providers configured in this environment (keys or the simulator).
    catalog: catalogFromEnv(process.env, configuredAdapters(process.env).keys(), simulatedProviders(process.env)),
    storage: new LocalStorage(config.STORAGE_DIR),
  };
  // An upload cut off by a crash leaves its temporary file; a live one finishes within minutes.
  const sweep = sweepAbandonedPeriodically(deps.storage, 'assets', {
    olderThanMs: 60 * 60_000,
    everyMs: 10 * 60_000,
    onSwept: (removed) => logger.info({ removed }, 'removed uploads cut off by a crash'),
    onError: (err) => logger.warn({ err }, 'sweeping abandoned uploads failed; trying again later'),
  });
  const retention = config.ASSET_RETENTION_DAYS > 0 ? startAssetRetention(deps, Math.max(1, Math.round(config.ASSET_RETENTION_DAYS * 86_400_000)), config.ASSET_RETENTION_SWEEP_MS) : null;
  const close = async () => {
    await sweep.stop();
    await retention?.stop();
    await projection.stop().catch((err: unknown) => logger.error({ err }, 'stopping the projection failed'));
    await infra.close();
  };
  return {
    deps,
    module: AppModule.register(deps, infra.checks, close),
    configure: (app) => {
      app.useGlobalFilters(new AllExceptionsFilter(logger));
      (app.getHttpAdapter().getInstance() as Application).set('trust proxy', config.TRUST_PROXY);
      app.use((req: Request, res: Response, next: NextFunction) => {
        const correlationId = correlationIdOf(req);
        res.setHeader('X-Request-Id', correlationId);
        runWithContext({ correlationId }, next);
      });
    },
  };
}
