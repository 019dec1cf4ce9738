import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { sweepAbandonedPeriodically } from '@reelay/storage';
import { POLLING_DEPS, type PollingDeps } from '../polling.deps';

const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Removes output copies a crash or a kill cut off (their temporary files, up to the output cap
 * each). A copy still running writes at least once per download timeout, so twice that (and at
 * least the sweep interval) is safely abandoned, also when replicas share the storage directory.
 */
@Injectable()
export class AbandonedCopiesSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private sweeper: { stop: () => Promise<void> } | null = null;

  constructor(@Inject(POLLING_DEPS) private readonly deps: PollingDeps) {}

  onApplicationBootstrap() {
    const { storage, outputRules, logger } = this.deps;
    this.sweeper = sweepAbandonedPeriodically(storage, 'outputs', {
      olderThanMs: Math.max(SWEEP_EVERY_MS, 2 * outputRules.downloadTimeoutMs),
      everyMs: SWEEP_EVERY_MS,
      onSwept: (removed) => logger.info({ removed }, 'removed output copies cut off by a crash'),
      onError: (err) => logger.warn({ err }, 'sweeping abandoned output copies failed; trying again later'),
    });
  }

  async beforeApplicationShutdown() {
    await this.sweeper?.stop();
  }
}
