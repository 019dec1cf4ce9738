import { JetStreamServer } from '@reelay/messaging';
import { configuredAdapters } from '@reelay/providers';
import { connectInfra, createLogger, createMetrics, exitFatally, initTracing, loadConfig, runService } from '@reelay/service-kit';
import { outputRetentionMs, PollingConfig, schedulePolicies } from './config';
import { POLLING_MIGRATIONS } from './migrations';
import { pollingConsumers } from './polling.consumers';
import type { PollingDeps } from './polling.deps';
import { PollingModule } from './polling.module';
import { PollScheduleRepository } from './schedule/poll-schedule.repository';
import { ProviderPauses } from './schedule/provider-pauses';
import { outputStorage } from './shared/output-storage';
import { createPollingMetrics } from './shared/polling-metrics';

async function main() {
  initTracing('polling');
  const config = loadConfig(PollingConfig);
  const adapters = configuredAdapters(process.env);
  const policyFor = schedulePolicies(config, adapters.keys());
  const logger = createLogger('polling', config.LOG_LEVEL);
  const metrics = createMetrics('polling');
  const infra = await connectInfra({ name: 'polling', config, logger, metrics, relay: true, migrations: POLLING_MIGRATIONS });
  const schedule = new PollScheduleRepository(infra.dataSource);
  const pollingMetrics = createPollingMetrics(metrics, () => schedule.count());
  const deps: PollingDeps = {
    store: infra.store,
    schedule,
    adapters,
    storage: outputStorage(config.STORAGE_DIR, pollingMetrics),
    policyFor,
    outputRules: { maxBytes: config.OUTPUT_MAX_BYTES, minBytes: config.OUTPUT_MIN_BYTES, downloadTimeoutMs: config.OUTPUT_DOWNLOAD_TIMEOUT_MS },
    outputRetentionMs: outputRetentionMs(config),
    checkTimeoutMs: config.PROVIDER_CHECK_TIMEOUT_MS,
    pauses: new ProviderPauses(logger),
    metrics: pollingMetrics,
    logger,
  };
  if (adapters.size === 0) logger.warn('no provider is configured: followed jobs cannot be checked');
  // Not awaited: a provider's key server being down must not keep polling from starting (its
  // callbacks are refused until this succeeds, and the provider sends them again).
  for (const adapter of adapters.values()) {
    adapter.prepare?.().catch((err: unknown) => logger.warn({ provider: adapter.name, err: String(err) }, 'could not load what verifying this provider\'s callbacks needs; its callbacks are refused until it loads'));
  }
  await runService({
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    name: 'polling',
    module: PollingModule.register(
      infra,
      deps,
      { nc: infra.nc, prefix: infra.prefix },
      {
        tickMs: config.POLL_TICK_MS,
        concurrency: config.POLL_CONCURRENCY,
        leaseMs: config.POLL_LEASE_MS,
        perProvider: config.POLL_CONCURRENCY_PER_PROVIDER ?? (adapters.size > 1 ? Math.ceil((config.POLL_CONCURRENCY * 3) / 4) : config.POLL_CONCURRENCY),
      },
      { sweepEveryMs: config.OUTPUT_RETENTION_SWEEP_MS },
      metrics,
    ),
    port: config.POLLING_PORT,
    logger,
    strategies: () => [
      new JetStreamServer({
        connection: infra.nc,
        name: 'polling',
        prefix: infra.prefix,
        consumers: pollingConsumers(infra.prefix, config.CONSUMER_CONCURRENCY),
        deadLetters: infra.deadLetters,
        topology: { replicas: config.NATS_REPLICAS },
      }),
    ],
  });
}

main().catch((err: unknown) => exitFatally('polling', err));
