import { catalogFromEnv } from '@reelay/catalog';
import { JetStreamServer } from '@reelay/messaging';
import { cachingResolver, userHostResolver } from '@reelay/net-guard';
import { configuredAdapters, simulatedProviders } from '@reelay/providers';
import { connectInfra, createLogger, createMetrics, exitFatally, initTracing, loadConfig, runService } from '@reelay/service-kit';
import { LocalStorage } from '@reelay/storage';
import { IntakeConfig } from './config';
import { intakeConsumers } from './intake.consumers';
import { IntakeModule } from './intake.module';
import { INTAKE_MIGRATIONS } from './migrations';
import { createIntakeMetrics } from './shared/intake-metrics';
import { ffmpegImageFitter } from './validate-job/fit-reference-image';

/** Reference images fitted at once by one intake process (each is an ffmpeg process of up to ~250 MB: see MAX_FIT_PIXELS). */
const IMAGE_FITS_AT_ONCE = 1;

async function main() {
  initTracing('intake');
  const config = loadConfig(IntakeConfig);
  const logger = createLogger('intake', config.LOG_LEVEL);
  const metrics = createMetrics('intake');
  const infra = await connectInfra({ name: 'intake', config, logger, metrics, relay: true, migrations: INTAKE_MIGRATIONS });
  const deps = {
    store: infra.store,
    storage: new LocalStorage(config.STORAGE_DIR),
    // The catalog offers the models of the providers configured here (API keys or the simulator).
    catalog: catalogFromEnv(process.env, configuredAdapters(process.env).keys(), simulatedProviders(process.env)),
    blockedTerms: config.MODERATION_BLOCKED_TERMS,
    imageRules: {
      maxBytes: config.ASSET_MAX_BYTES,
      timeoutMs: config.ASSET_FETCH_TIMEOUT_MS,
      minSide: config.ASSET_MIN_SIDE,
      maxSide: config.ASSET_MAX_SIDE,
      allowHosts: config.OUTBOUND_ALLOW_HOSTS,
    },
    fitImage: ffmpegImageFitter(IMAGE_FITS_AT_ONCE),
    outboundAllowHosts: config.OUTBOUND_ALLOW_HOSTS,
    resolver: cachingResolver(userHostResolver, 60_000),
    deadlineSweepMs: config.DEADLINE_SWEEP_MS,
    metrics: createIntakeMetrics(metrics),
    now: () => new Date(),
  };
  await runService({
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    name: 'intake',
    module: IntakeModule.register(infra, deps, { nc: infra.nc, prefix: infra.prefix, logger }, metrics),
    port: config.INTAKE_PORT,
    logger,
    strategies: () => [
      new JetStreamServer({
        connection: infra.nc,
        name: 'intake',
        prefix: infra.prefix,
        consumers: intakeConsumers(infra.prefix, config.CONSUMER_CONCURRENCY),
        deadLetters: infra.deadLetters,
        topology: { replicas: config.NATS_REPLICAS },
      }),
    ],
  });
}

main().catch((err: unknown) => exitFatally('intake', err));
