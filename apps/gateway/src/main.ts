import 'reflect-metadata';
import { createLogger, exitFatally, initTracing, runService } from '@reelay/service-kit';
import { buildGateway } from './build-gateway';
import { loadGatewayConfig } from './config/gateway-config';

async function main(): Promise<void> {
  initTracing('gateway');
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.LOG_LEVEL);
  if (!config.JOB_TOKEN_SECRET) {
    logger.warn(
      config.WEBHOOK_MASTER_SECRET
        ? 'JOB_TOKEN_SECRET is not set: job tokens are signed with a key derived from WEBHOOK_MASTER_SECRET (set it to revoke tokens apart from webhook secrets)'
        : 'JOB_TOKEN_SECRET is not set: POST /v1/jobs/{id}/token answers 503',
    );
  }
  const gw = await buildGateway(config, logger);
  await runService({ name: 'gateway', module: gw.module, port: config.GATEWAY_PORT, logger, configure: gw.configure, shutdownGraceMs: config.SHUTDOWN_GRACE_MS });
}

main().catch((err: unknown) => exitFatally('gateway', err));
