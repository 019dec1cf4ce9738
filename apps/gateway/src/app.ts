import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, type Logger } from '@reelay/service-kit';
import { buildGateway } from './build-gateway';
import type { GatewayConfig } from './config/gateway-config';

export interface GatewayApp {
  app: INestApplication;
  deps: Awaited<ReturnType<typeof buildGateway>>['deps'];
}

/**
 * The gateway in-process, initialised but not listening (tests call `app.listen(0)`); `app.close()`
 * releases everything. Bodies are read by the routes themselves (no global body parser), so every
 * limit and parse error is answered with the api.md envelope.
 */
export async function createGatewayApp(config: GatewayConfig, logger: Logger = createLogger('gateway', config.LOG_LEVEL)): Promise<GatewayApp> {
  const gw = await buildGateway(config, logger);
  const app = await NestFactory.create(gw.module, { bodyParser: false, logger: false });
  gw.configure(app);
  await app.init();
  return { app, deps: gw.deps };
}
