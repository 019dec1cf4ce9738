import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { onOneReplica, Ticker } from '@reelay/service-kit';
import { POLLING_DEPS, type PollingDeps } from '../polling.deps';
import { ExpiredOutputsSweep } from './sweep-expired-outputs';

export const RETENTION_OPTIONS = Symbol('RETENTION_OPTIONS');

export interface RetentionOptions {
  sweepEveryMs: number;
}

/** Runs the retention sweep (ExpiredOutputsSweep) on one replica at a time. */
@Injectable()
export class OutputRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker;
  private readonly sweep: ExpiredOutputsSweep;

  constructor(@Inject(POLLING_DEPS) deps: PollingDeps, @Inject(RETENTION_OPTIONS) options: RetentionOptions) {
    const sweep = (this.sweep = new ExpiredOutputsSweep(deps));
    const round = async () => {
      let more = false;
      await onOneReplica(deps.store.dataSource, 'polling-output-retention', async () => {
        const { deleted, orphansRemoved, failed, ...rest } = await sweep.round();
        more = rest.more;
        if (deleted || orphansRemoved || failed) deps.logger.info({ deleted, orphansRemoved, failed }, 'applied the output retention');
        if (deleted) deps.metrics.outputsDeleted.inc({ reason: 'retention' }, deleted);
        if (orphansRemoved) deps.metrics.outputsDeleted.inc({ reason: 'orphan' }, orphansRemoved);
      });
      return more;
    };
    // Also with outputs kept for good: it then removes only the files no succeeded job points at.
    this.ticker = new Ticker({ round, intervalMs: options.sweepEveryMs, onError: (err) => deps.logger.warn({ err: String(err) }, 'output retention sweep failed; trying again later') });
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker.stop();
    await this.sweep.close();
  }
}
