import { catalogFromEnv } from '@reelay/catalog';
import { JetStreamServer } from '@reelay/messaging';
import { ADAPTER_FACTORIES, configuredAdapters, simulatedProviders } from '@reelay/providers';
import { LocalStorage } from '@reelay/storage';
import { connectInfra, createLogger, createMetrics, exitFatally, initTracing, loadConfig, onOneReplica, runService } from '@reelay/service-kit';
import { refreshInFlight } from './capacity/in-flight-gauge';
import { ProviderSlots } from './capacity/provider-slots';
import { SubmitBudgets } from './capacity/submit-budgets';
import { SlotSweeper } from './capacity/slot-sweeper';
import { ProviderCircuit } from './circuit/provider-circuit';
import { circuitOpenGauge } from './circuit/circuit-metrics';
import { DispatchConfig, maxInFlightFor, maxSubmitsPerMinuteFor, perProviderLimitErrors } from './config';
import { dispatchConsumers } from './dispatch.consumers';
import type { DispatchDeps } from './dispatch.deps';
import { DispatchModule } from './dispatch.module';
import { dispatchMigrations } from './migrations';
import { Periodic } from './shared/periodic';
import { referenceImageFetcher } from './dispatch-when-job-validated/fetch-reference-image';
import { SubmitLocks } from './dispatch-when-job-validated/submit-locks';
import { ErrorStreaks } from './dispatch-when-job-validated/error-streaks';
import { recordRetryDelays } from './dispatch-when-job-validated/record-answer';

async function main() {
  initTracing('dispatch');
  const config = loadConfig(DispatchConfig);
  const limitErrors = perProviderLimitErrors(process.env, ADAPTER_FACTORIES.map((f) => f.name));
  if (limitErrors.length) throw new Error(`invalid configuration: ${limitErrors.join('; ')}`);
  const logger = createLogger('dispatch', config.LOG_LEVEL);
  const metrics = createMetrics('dispatch');
  const infra = await connectInfra({ name: 'dispatch', config, logger, metrics, relay: true, migrations: dispatchMigrations });
  const adapters = configuredAdapters(process.env);
  if (adapters.size === 0) logger.warn('no provider adapter is configured: every job will fail with unknown_provider_error');
  const simulated = simulatedProviders(process.env).filter((name) => adapters.has(name));
  if (simulated.length) {
    logger.warn({ providers: simulated, simulator: process.env.PROVIDER_SIM_URL }, 'these providers have no API key and go to the provider simulator: their jobs are simulated, not generated');
  }
  const catalog = catalogFromEnv(process.env, adapters.keys(), simulated);
  for (const { id, on } of catalog.retiredModels()) {
    logger.warn({ model: id, retiredOn: on }, `${id} is no longer offered: its provider stopped serving its model id on ${on}; point it at a newer id with <PROVIDER>_MODEL_IDS (on every service) if the provider has one`);
  }
  const assetUrls = config.ASSET_URL_SECRET && config.PUBLIC_BASE_URL ? { secret: config.ASSET_URL_SECRET, publicBaseUrl: config.PUBLIC_BASE_URL } : undefined;
  const linkOnly = [...adapters.values()].filter((a) => a.capabilities.imageByLinkOnly).map((a) => a.name);
  if (!assetUrls && linkOnly.length > 0) {
    logger.warn({ providers: linkOnly }, 'PUBLIC_BASE_URL and ASSET_URL_SECRET are not both set: jobs with an uploaded reference image will not go to providers that fetch images by link');
  }
  const slots = new ProviderSlots(
    infra.dataSource,
    (provider) => maxInFlightFor(provider, process.env, config.PROVIDER_MAX_IN_FLIGHT_DEFAULT),
    config.DISPATCH_MAX_IN_FLIGHT_PER_USER,
    // A place in line lasts a few capacity waits (each 0.5–1.5 of DISPATCH_CAPACITY_WAIT_MS) past the job's last ask.
    Math.max(5_000, 3 * config.DISPATCH_CAPACITY_WAIT_MS),
  );
  const circuit = new ProviderCircuit(infra.dataSource, {
    threshold: config.CIRCUIT_FAILURE_THRESHOLD,
    windowMs: config.CIRCUIT_WINDOW_MS,
    cooldownMs: config.CIRCUIT_COOLDOWN_MS,
    viewTtlMs: config.CIRCUIT_VIEW_TTL_MS,
  });
  circuitOpenGauge(metrics, circuit, [...adapters.keys()]);
  const errorStreaks = new ErrorStreaks(infra.dataSource);
  const deps: DispatchDeps = {
    store: infra.store,
    storage: new LocalStorage(config.STORAGE_DIR),
    fetchReferenceImage: referenceImageFetcher({ timeoutMs: config.REFERENCE_IMAGE_TIMEOUT_MS, allowHosts: config.OUTBOUND_ALLOW_HOSTS }),
    catalog,
    adapters,
    slots,
    submitBudgets: new SubmitBudgets(infra.dataSource, (provider) => maxSubmitsPerMinuteFor(provider, process.env)),
    locks: new SubmitLocks(config.DATABASE_URL),
    circuit,
    policy: {
      rateLimitBudgetMs: config.DISPATCH_RATE_LIMIT_BUDGET_MS,
      rateLimitMaxRetries: config.DISPATCH_RATE_LIMIT_MAX_RETRIES,
      rateLimitDefaultWaitMs: config.DISPATCH_RATE_LIMIT_DEFAULT_WAIT_MS,
      serverMaxRetries: config.DISPATCH_SERVER_MAX_RETRIES,
      retryBaseMs: config.DISPATCH_RETRY_BASE_MS,
      retryMaxMs: config.DISPATCH_RETRY_MAX_MS,
    },
    capacityWaitMs: config.DISPATCH_CAPACITY_WAIT_MS,
    capacityWaitMaxMs: config.DISPATCH_CAPACITY_WAIT_MAX_MS,
    untrackedTaskHoldMs: config.DISPATCH_UNTRACKED_TASK_HOLD_MS,
    giveUpAfterErrorsMs: config.DISPATCH_GIVE_UP_AFTER_ERRORS_MS,
    errorStreaks,
    recordRetryDelaysMs: recordRetryDelays(config.DISPATCH_RECORD_RETRY_MS),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    assetUrls,
    metrics,
    logger,
    now: () => new Date(),
  };
  if (config.DISPATCH_CRASH_AFTER_SUBMIT === '1') {
    logger.warn('DISPATCH_CRASH_AFTER_SUBMIT=1: this process kills itself after the first provider accept (crash tests only)');
    deps.afterProviderAccepted = () => process.kill(process.pid, 'SIGKILL');
  }
  const sweeper = new SlotSweeper(
    { slots, store: infra.store, logger },
    { minAgeMs: config.DISPATCH_SLOT_SWEEP_MS, trackedTaskHoldMs: config.DISPATCH_CANCELED_TASK_HOLD_MS, untrackedTaskHoldMs: config.DISPATCH_UNTRACKED_TASK_HOLD_MS },
  );
  const background = [
    // One replica at a time: the others would read and free the same slots.
    new Periodic(
      () =>
        onOneReplica(infra.dataSource, 'dispatch-slot-sweep', async () => {
          await sweeper.sweep();
          await errorStreaks.forgetEnded(new Date());
        }),
      config.DISPATCH_SLOT_SWEEP_MS,
      (err) => logger.warn({ err: String(err) }, 'slot sweep failed'),
    ),
    new Periodic(() => refreshInFlight({ slots, metrics }), config.DISPATCH_IN_FLIGHT_REFRESH_MS, (err) => logger.warn({ err: String(err) }, 'in-flight refresh failed')),
  ];
  await runService({
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    name: 'dispatch',
    module: DispatchModule.register(infra, deps, background, metrics),
    port: config.DISPATCH_PORT,
    logger,
    strategies: () => [
      new JetStreamServer({
        connection: infra.nc,
        name: 'dispatch',
        prefix: infra.prefix,
        consumers: dispatchConsumers(infra.prefix, config.CONSUMER_CONCURRENCY, config.DISPATCH_ACK_WAIT_MS, config.DISPATCH_MAX_HANDLER_MS),
        deadLetters: infra.deadLetters,
        topology: { replicas: config.NATS_REPLICAS },
      }),
    ],
  });
}

main().catch((err: unknown) => exitFatally('dispatch', err));
