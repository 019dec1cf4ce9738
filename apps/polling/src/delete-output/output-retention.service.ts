import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { onOneReplica, Ticker } from '@reelay/service-kit';
import { POLLING_DEPS, type PollingDeps } from '../polling.deps';
import { sweepExpiredOutputs } from './sweep-expired-outputs';

export const RETENTION_OPTIONS = Symbol('RETENTION_OPTIONS');

export interface RetentionOptions {
  sweepEveryMs: number;
}

/** Runs the retention sweep (sweepExpiredOutputs) on one replica at a time, when a retention is set. */
@Injectable()
export class OutputRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker | null;

  constructor(@Inject(POLLING_DEPS) deps: PollingDeps, @Inject(RETENTION_OPTIONS) options: RetentionOptions) {
    this.ticker =
      deps.outputRetentionMs === null
        ? null
        : new Ticker({
            round: async () =>
              void (await onOneReplica(deps.store.dataSource, 'polling-output-retention', async () => {
                const { deleted, orphansRemoved } = await sweepExpiredOutputs(deps);
                if (deleted || orphansRemoved) deps.logger.info({ deleted, orphansRemoved }, 'deleted outputs past their retention');
                if (deleted) deps.metrics.outputsDeleted.inc({ reason: 'retention' }, deleted);
                if (orphansRemoved) deps.metrics.outputsDeleted.inc({ reason: 'orphan' }, orphansRemoved);
              })),
            intervalMs: options.sweepEveryMs,
            onError: (err) => deps.logger.warn({ err: String(err) }, 'output retention sweep failed; trying again later'),
          });
  }

  onApplicationBootstrap() {
    this.ticker?.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker?.stop();
  }
}
